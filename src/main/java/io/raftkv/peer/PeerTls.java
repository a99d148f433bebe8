package io.raftkv.peer;

import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;

/**
 * Mutual TLS of the peer channel: this node's key and certificate, and the cluster CA that every peer's certificate
 * must be signed by. A node's identity is the URI subject alternative name {@code urn:raftkv:node:<node-id>} of its
 * certificate (scripts/peer-certs.sh issues such certificates); host names are not checked, the node id is, on both
 * ends: the listener against the sender a connection claims, the client against the peer it meant to reach.
 */
public final class PeerTls {

    public static final String SAN_PREFIX = "urn:raftkv:node:";
    private static final int URI_SAN = 6;

    private final Path cert;
    private final Path key;
    private final Path ca;

    public PeerTls(Path cert, Path key, Path ca) {
        for (Path p : new Path[] {cert, key, ca}) {
            if (!Files.isReadable(p)) {
                throw new IllegalArgumentException("peer TLS is on (raftkv.peer-tls) but " + p + " is missing or unreadable:"
                        + " create the cluster's certificates with scripts/peer-certs.sh, or set raftkv.peer-tls=false");
            }
        }
        this.cert = cert;
        this.key = key;
        this.ca = ca;
    }

    public NetServerOptions server(NetServerOptions o) {
        return o.setSsl(true).setClientAuth(ClientAuth.REQUIRED).setKeyCertOptions(keyCert()).setTrustOptions(trust());
    }

    public NetClientOptions client(NetClientOptions o) {
        // Host names are not what identifies a peer here: its node id in the certificate is (checked after connecting).
        return o.setSsl(true).setHostnameVerificationAlgorithm("").setKeyCertOptions(keyCert()).setTrustOptions(trust());
    }

    /** The key, certificate and CA as Vert.x reads them from the files now (for a listener's or client's reload). */
    public io.vertx.core.net.SSLOptions sslOptions() {
        return new io.vertx.core.net.SSLOptions().setKeyCertOptions(keyCert()).setTrustOptions(trust());
    }

    /** A stamp of the three files (modification times and sizes): it changes when any of them is replaced. */
    public String stamp() {
        StringBuilder sb = new StringBuilder();
        for (Path p : new Path[] {cert, key, ca}) {
            try {
                sb.append(Files.getLastModifiedTime(p).toMillis()).append('/').append(Files.size(p)).append(';');
            } catch (java.io.IOException e) {
                sb.append("missing;");
            }
        }
        return sb.toString();
    }

    /**
     * Checks the files as they are now before a reload: readable, the certificate parses and names {@code nodeId}
     * (a certificate of another node would make every peer refuse this one), the CA parses. Returns why not, or null.
     */
    public String problemFor(String nodeId) {
        try {
            java.security.cert.CertificateFactory f = java.security.cert.CertificateFactory.getInstance("X.509");
            Certificate own;
            try (var in = Files.newInputStream(cert)) {
                own = f.generateCertificate(in);
            }
            String id = identity(own);
            if (!nodeId.equals(id)) {
                return cert + " names " + (id == null ? "no node" : "node " + id) + ", not " + nodeId;
            }
            try (var in = Files.newInputStream(ca)) {
                if (f.generateCertificates(in).isEmpty()) {
                    return ca + " holds no certificate";
                }
            }
            if (!Files.isReadable(key) || Files.size(key) == 0) {
                return key + " is missing or empty";
            }
            return null;
        } catch (java.io.IOException | java.security.cert.CertificateException e) {
            return "cannot read the peer TLS files: " + e.getMessage();
        }
    }

    private PemKeyCertOptions keyCert() {
        return new PemKeyCertOptions().setCertPath(cert.toString()).setKeyPath(key.toString());
    }

    private PemTrustOptions trust() {
        return new PemTrustOptions().addCertPath(ca.toString());
    }

    /** The node id the peer's (verified) certificate names, or null if it names none. */
    public static String identity(NetSocket socket) {
        try {
            List<Certificate> chain = socket.peerCertificates();
            return chain == null || chain.isEmpty() ? null : identity(chain.get(0));
        } catch (Exception e) {
            return null;
        }
    }

    /** The node id in a certificate's {@code urn:raftkv:node:} URI SAN; null if none or several. */
    public static String identity(Certificate c) {
        if (!(c instanceof X509Certificate x)) {
            return null;
        }
        try {
            Collection<List<?>> sans = x.getSubjectAlternativeNames();
            String found = null;
            if (sans != null) {
                for (List<?> san : sans) {
                    if (san.size() >= 2 && Integer.valueOf(URI_SAN).equals(san.get(0)) && san.get(1) instanceof String s
                            && s.startsWith(SAN_PREFIX)) {
                        if (found != null) {
                            return null; // one certificate, one node
                        }
                        found = s.substring(SAN_PREFIX.length());
                    }
                }
            }
            return found == null || found.isEmpty() ? null : found;
        } catch (CertificateParsingException e) {
            return null;
        }
    }
}
