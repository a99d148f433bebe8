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
