{{/*
Names. The fullname is cut to 52 characters: pod names (<fullname>-<ordinal>) must be DNS labels, the headless
Service name (<fullname>-headless) too, node ids are pod names (at most 64 characters), and Kubernetes adds a
10-character hash to the StatefulSet name in the controller-revision-hash label (at most 63).
*/}}
{{- define "raftkv.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 52 | trimSuffix "-" -}}
{{- end -}}

{{- define "raftkv.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "raftkv.headlessName" -}}
{{- printf "%s-headless" (include "raftkv.fullname" .) -}}
{{- end -}}

{{- define "raftkv.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "raftkv.selectorLabels" -}}
app.kubernetes.io/name: {{ include "raftkv.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "raftkv.labels" -}}
helm.sh/chart: {{ include "raftkv.chart" . }}
{{ include "raftkv.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: raftkv
{{- end -}}

{{- define "raftkv.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "raftkv.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "raftkv.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (toString .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{/*
The member count, checked: a whole number, odd, at least 1. Every template that depends on it goes through here,
so a bad value stops rendering with this message instead of producing a cluster that cannot keep a quorum.
*/}}
{{- define "raftkv.replicas" -}}
{{- $raw := .Values.replicaCount -}}
{{- if kindIs "string" $raw -}}
{{- if not (regexMatch "^[0-9]+$" $raw) -}}
{{- fail (printf "replicaCount must be a whole number, got %q" $raw) -}}
{{- end -}}
{{- else if not (or (kindIs "float64" $raw) (kindIs "int64" $raw) (kindIs "int" $raw)) -}}
{{- fail (printf "replicaCount must be a whole number, got %v" $raw) -}}
{{- else if ne (float64 (int $raw)) (float64 $raw) -}}
{{- fail (printf "replicaCount must be a whole number, got %v" $raw) -}}
{{- end -}}
{{- $n := int $raw -}}
{{- if lt $n 1 -}}
{{- fail (printf "replicaCount must be an odd number of at least 1 (1, 3, 5, ...), got %d: a Raft cluster needs at least one member" $n) -}}
{{- end -}}
{{- if eq (mod $n 2) 0 -}}
{{- fail (printf "replicaCount must be odd (1, 3, 5, ...), got %d: %d members need a quorum of %d and tolerate only %d failure(s), no more than %d members" $n $n (add (div $n 2) 1) (div (sub $n 1) 2) (sub $n 1)) -}}
{{- end -}}
{{- $n -}}
{{- end -}}

{{/* The number of members a Raft quorum needs: a majority. */}}
{{- define "raftkv.quorum" -}}
{{- add (div (int (include "raftkv.replicas" .)) 2) 1 -}}
{{- end -}}

{{/* This release's URL of member <ordinal>: the pod's stable DNS name through the headless Service. */}}
{{- define "raftkv.memberUrl" -}}
{{- $root := index . 0 -}}
{{- $ordinal := index . 1 -}}
{{- printf "http://%s-%d.%s.%s.svc.%s:%d" (include "raftkv.fullname" $root) (int $ordinal) (include "raftkv.headlessName" $root) $root.Release.Namespace $root.Values.clusterDomain (int $root.Values.httpPort) -}}
{{- end -}}

{{/* RAFTKV_PEERS: every member as <pod name>=<url>, comma separated, this one included. */}}
{{- define "raftkv.peers" -}}
{{- $fullname := include "raftkv.fullname" . -}}
{{- $peers := list -}}
{{- range $i := until (int (include "raftkv.replicas" .)) -}}
{{- $peers = append $peers (printf "%s-%d=%s" $fullname $i (include "raftkv.memberUrl" (list $ $i))) -}}
{{- end -}}
{{- join "," $peers -}}
{{- end -}}

{{/*
RAFTKV_INITIAL_CLUSTER_STATE: "new" when the release is installed (the members bootstrap the cluster together),
"existing" on every upgrade (a pod that starts on an empty volume then joins, or waits to be replaced, and never
bootstraps a second cluster), and always with restore.enabled (ordinal 0 starts from the restored backup, the others
join it). membership.initialClusterState overrides it.
*/}}
{{- define "raftkv.initialClusterState" -}}
{{- $v := .Values.membership.initialClusterState | default "" | toString -}}
{{- if $v -}}
{{- if not (has $v (list "new" "existing")) -}}
{{- fail (printf "membership.initialClusterState must be new, existing or empty, got %q" $v) -}}
{{- end -}}
{{- $v -}}
{{- else if .Values.restore.enabled -}}
existing
{{- else if .Release.IsInstall -}}
new
{{- else -}}
existing
{{- end -}}
{{- end -}}

{{/*
Every member's peer listener, id=host:port, for RAFTKV_PEER_URLS.
*/}}
{{- define "raftkv.peerUrls" -}}
{{- $fullname := include "raftkv.fullname" . -}}
{{- $headless := include "raftkv.headlessName" . -}}
{{- $peers := list -}}
{{- range $i := until (int (include "raftkv.replicas" .)) -}}
{{- $peers = append $peers (printf "%s-%d=%s-%d.%s.%s.svc.%s:%d" $fullname $i $fullname $i $headless $.Release.Namespace $.Values.clusterDomain (int $.Values.peerPort)) -}}
{{- end -}}
{{- join "," $peers -}}
{{- end -}}

{{/*
The /tls volume: the existing Secret as it is, or every member's cert-manager Secret projected as
ca.crt, <pod>.crt and <pod>.key. Empty when peer TLS is off; fails when it is on with no source of certificates.
*/}}
{{- define "raftkv.peerTlsVolume" -}}
{{- if .Values.peerTls.enabled -}}
{{- $fullname := include "raftkv.fullname" . -}}
{{- if and .Values.peerTls.existingSecret .Values.peerTls.certManager.enabled -}}
{{- fail "peerTls: set either existingSecret or certManager.enabled, not both" -}}
{{- else if .Values.peerTls.existingSecret -}}
- name: peer-tls
  secret:
    secretName: {{ .Values.peerTls.existingSecret }}
    defaultMode: 0440
{{- else if .Values.peerTls.certManager.enabled -}}
{{- if not .Values.peerTls.certManager.issuerRef.name -}}
{{- fail "peerTls.certManager.issuerRef.name is required: the Issuer that signs the members' peer certificates" -}}
{{- end }}
- name: peer-tls
  projected:
    defaultMode: 0440
    sources:
      {{- range $i := until (int (include "raftkv.replicas" .)) }}
      - secret:
          name: {{ printf "%s-peer-%d" $fullname $i }}
          items:
            {{- if eq $i 0 }}
            - key: ca.crt
              path: ca.crt
            {{- end }}
            - key: tls.crt
              path: {{ printf "%s-%d.crt" $fullname $i }}
            - key: tls.key
              path: {{ printf "%s-%d.key" $fullname $i }}
      {{- end }}
{{- else -}}
{{- fail "peerTls.enabled needs the members' certificates: set peerTls.existingSecret (a Secret made from scripts/peer-certs.sh output) or peerTls.certManager.enabled with an issuerRef; peerTls.enabled=false turns peer TLS off (experiments only)" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding the tokens file: the given one, or the one the chart makes. */}}
{{- define "raftkv.authSecretName" -}}
{{- default (printf "%s-auth" (include "raftkv.fullname" .)) .Values.auth.existingSecret -}}
{{- end -}}

{{/* The Secret holding the client API's certificate (tls.crt, tls.key): the given one, or the one the chart makes. */}}
{{- define "raftkv.tlsSecretName" -}}
{{- default (printf "%s-tls" (include "raftkv.fullname" .)) .Values.clientTls.existingSecret -}}
{{- end -}}

{{/* The client API's scheme and port on a member: https and httpsPort with clientTls on, else http and httpPort. */}}
{{- define "raftkv.clientScheme" -}}
{{- if .Values.clientTls.enabled -}}https{{- else -}}http{{- end -}}
{{- end -}}

{{/*
What a member needs to change membership itself (join on a scale-up) and the scale-down hook to remove members: the
admin token of the auth Secret and the CA of the client TLS Secret, both optional items (a Secret of your own may lack
them), projected into /etc/raftkv/membership. Empty with auth and client TLS both off.
*/}}
{{- define "raftkv.membershipVolume" -}}
{{- if or .Values.auth.enabled .Values.clientTls.enabled }}
- name: membership
  projected:
    defaultMode: 0440
    sources:
      {{- if .Values.auth.enabled }}
      - secret:
          name: {{ include "raftkv.authSecretName" . }}
          optional: true
          items:
            - key: {{ .Values.tests.tokenSecretKey }}
              path: admin-token
      {{- end }}
      {{- if .Values.clientTls.enabled }}
      - secret:
          name: {{ include "raftkv.tlsSecretName" . }}
          optional: true
          items:
            - key: ca.crt
              path: ca.crt
      {{- end }}
{{- end }}
{{- end -}}

{{/* The client Service's URL for the scale-down hook: https on httpsPort with clientTls on. */}}
{{- define "raftkv.hookServiceUrl" -}}
{{- printf "%s://%s.%s.svc.%s:%d" (include "raftkv.clientScheme" .) (include "raftkv.fullname" .) .Release.Namespace .Values.clusterDomain (int (ternary .Values.service.httpsPort .Values.service.port .Values.clientTls.enabled)) -}}
{{- end -}}
