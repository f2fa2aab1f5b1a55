package dev.trent.console;

import java.io.ByteArrayInputStream;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.X509CertificateHolder;
import org.springframework.http.ContentDisposition;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Controller;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.servlet.mvc.support.RedirectAttributes;

import dev.trent.ca.IssuerRegistry;
import dev.trent.inventory.Certificate;
import dev.trent.inventory.CertificateRenderer;
import dev.trent.inventory.CertificateStore;
import dev.trent.pki.SerialNumbers;
import dev.trent.operator.OperatorPrincipal;
import dev.trent.revocation.RevocationReason;
import dev.trent.revocation.RevocationService;
import dev.trent.web.MediaTypes;
import dev.trent.web.ProblemException;
import dev.trent.web.RequestInstants;

/**
 * Certificates: the search, one certificate's page and downloads, and revoking it (through
 * {@link RevocationService}, as the API does; keyCompromise only after a confirmation page).
 */
@Controller
class CertificatesController {

    static final int PAGE_SIZE = 50;

    private final ConsoleQueries queries;
    private final CertificateStore certificates;
    private final CertificateRenderer renderer;
    private final IssuerRegistry issuers;
    private final RevocationService revocation;
    private final dev.trent.profile.Profiles profiles;

    CertificatesController(ConsoleQueries queries, CertificateStore certificates, CertificateRenderer renderer,
            IssuerRegistry issuers, RevocationService revocation, dev.trent.profile.Profiles profiles) {
        this.profiles = profiles;
        this.queries = queries;
        this.certificates = certificates;
        this.renderer = renderer;
        this.issuers = issuers;
        this.revocation = revocation;
    }

    @GetMapping("/console/certificates")
    String search(@RequestParam(required = false) String deviceId, @RequestParam(required = false) String status,
            @RequestParam(required = false) String profile, @RequestParam(required = false) String issuer,
            @RequestParam(required = false) String expiringBefore, @RequestParam(required = false) Long before,
            Model model) {
        ConsoleQueries.Search s = new ConsoleQueries.Search(blank(deviceId), status(blank(status)), blank(profile),
                blank(issuer), date(blank(expiringBefore)));
        List<ConsoleQueries.Row> rows = queries.search(s, before, PAGE_SIZE);
        boolean more = rows.size() > PAGE_SIZE;
        if (more) {
            rows = rows.subList(0, PAGE_SIZE);
        }
        model.addAttribute("rows", rows);
        model.addAttribute("next", more ? rows.get(rows.size() - 1).id() : null);
        model.addAttribute("first", before != null);
        model.addAttribute("q", Map.of("deviceId", nz(deviceId), "status", nz(status), "profile", nz(profile),
                "issuer", nz(issuer), "expiringBefore", nz(expiringBefore)));
        // The configured profiles, not a scan of the certificates.
        model.addAttribute("profiles", profiles.names());
        model.addAttribute("issuers", issuers.summaries());
        return "console/certificates";
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }

    private static String blank(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }

    private static String status(String s) {
        if (s == null) {
            return null;
        }
        String upper = s.toUpperCase(Locale.ROOT);
        if (!upper.equals("ISSUED") && !upper.equals("REVOKED")) {
            throw ProblemException.invalidRequest("status must be one of ISSUED, REVOKED.");
        }
        return upper;
    }

    /** A date (the start of that UTC day) or an ISO-8601 instant. */
    private static Instant date(String s) {
        return RequestInstants.storable("expiringBefore",
                RequestInstants.dateOrInstant("expiringBefore", s, "2027-01-01"));
    }

    private Certificate load(String serial) {
        String canonical = SerialNumbers.canonical(serial);
        if (canonical == null) {
            throw ProblemException.invalidRequest("'" + serial.replaceAll("[^\\x20-\\x7e]", "?")
                    + "' is not a serial number (hexadecimal, optionally with colons).");
        }
        return certificates.bySerial(canonical).filter(r -> r.status().delivered())
                .orElseThrow(() -> ProblemException.notFound("No certificate with serial " + canonical + "."));
    }

    /** A decoded field of the certificate, as shown. */
    record Field(String name, String value) {
    }

    @GetMapping("/console/certificates/{serial}")
    @Transactional(readOnly = true)
    String certificate(@PathVariable String serial, Model model) {
        Certificate c = load(serial);
        CertificateRenderer.CertificateView view = renderer.detail(c);
        model.addAttribute("c", view);
        model.addAttribute("fields", fields(c.der()));
        model.addAttribute("chain", issuers.byId(c.issuerId()).map(i -> i.signer().chain()).orElse(List.of())
                .stream().map(x -> new Field(x.getSubjectX500Principal().getName(),
                        "valid until " + x.getNotAfter().toInstant())).toList());
        model.addAttribute("lineage", queries.lineage(c.serial()));
        model.addAttribute("events", queries.eventsAbout(c.serial(), 200));
        model.addAttribute("reasons", RevocationReason.values());
        model.addAttribute("onHold", c.revocation() != null
                && RevocationReason.certificateHold.name().equals(c.revocation().reason()));
        return "console/certificate";
    }

    static List<Field> fields(byte[] der) {
        List<Field> out = new ArrayList<>();
        try {
            X509Certificate x = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(der));
            X509CertificateHolder h = new X509CertificateHolder(der);
            out.add(new Field("Version", "v" + x.getVersion()));
            out.add(new Field("Serial number", x.getSerialNumber().toString(16)));
            out.add(new Field("Subject", x.getSubjectX500Principal().getName()));
            out.add(new Field("Issuer", x.getIssuerX500Principal().getName()));
            out.add(new Field("Not before", x.getNotBefore().toInstant().toString()));
            out.add(new Field("Not after", x.getNotAfter().toInstant().toString()));
            out.add(new Field("Public key", x.getPublicKey().getAlgorithm() + " ("
                    + h.getSubjectPublicKeyInfo().getAlgorithm().getParameters() + ")"));
            out.add(new Field("Signature algorithm", x.getSigAlgName()));
            if (x.getSubjectAlternativeNames() != null) {
                out.add(new Field("Subject alternative names", x.getSubjectAlternativeNames().stream()
                        .map(n -> n.get(1).toString()).toList().toString()));
            }
            boolean[] ku = x.getKeyUsage();
            if (ku != null) {
                String[] names = {"digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment",
                    "keyAgreement", "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly"};
                List<String> set = new ArrayList<>();
                for (int i = 0; i < ku.length && i < names.length; i++) {
                    if (ku[i]) {
                        set.add(names[i]);
                    }
                }
                out.add(new Field("Key usage", String.join(", ", set)));
            }
            if (x.getExtendedKeyUsage() != null) {
                out.add(new Field("Extended key usage", String.join(", ", x.getExtendedKeyUsage().stream()
                        .map(CertificatesController::eku).toList())));
            }
            Map<String, String> names = new LinkedHashMap<>();
            names.put(Extension.basicConstraints.getId(), "basicConstraints");
            names.put(Extension.keyUsage.getId(), "keyUsage");
            names.put(Extension.extendedKeyUsage.getId(), "extendedKeyUsage");
            names.put(Extension.subjectAlternativeName.getId(), "subjectAltName");
            names.put(Extension.subjectKeyIdentifier.getId(), "subjectKeyIdentifier");
            names.put(Extension.authorityKeyIdentifier.getId(), "authorityKeyIdentifier");
            names.put(Extension.cRLDistributionPoints.getId(), "cRLDistributionPoints");
            names.put(Extension.authorityInfoAccess.getId(), "authorityInfoAccess");
            names.put(Extension.certificatePolicies.getId(), "certificatePolicies");
            List<String> extensions = new ArrayList<>();
            for (Object oid : h.getExtensionOIDs()) {
                String id = oid.toString();
                extensions.add(names.getOrDefault(id, id) + (h.getExtension(
                        new org.bouncycastle.asn1.ASN1ObjectIdentifier(id)).isCritical() ? " (critical)" : ""));
            }
            out.add(new Field("Extensions", String.join(", ", extensions)));
            byte[] ski = x.getExtensionValue(Extension.subjectKeyIdentifier.getId());
            if (ski != null) {
                out.add(new Field("Subject key identifier", HexFormat.of().formatHex(
                        org.bouncycastle.asn1.x509.SubjectKeyIdentifier.fromExtensions(h.getExtensions())
                                .getKeyIdentifier())));
            }
        } catch (CertificateException | java.io.IOException | RuntimeException e) {
            out.add(new Field("Decoding", "the stored DER could not be decoded: " + e.getClass().getSimpleName()));
        }
        return out;
    }

    private static String eku(String oid) {
        return switch (oid) {
            case "1.3.6.1.5.5.7.3.1" -> "serverAuth";
            case "1.3.6.1.5.5.7.3.2" -> "clientAuth";
            case "1.3.6.1.5.5.7.3.9" -> "OCSPSigning";
            default -> oid;
        };
    }

    @GetMapping("/console/certificates/{serial}/pem")
    @Transactional(readOnly = true)
    ResponseEntity<?> pem(@PathVariable String serial) {
        Certificate c = load(serial);
        return renderer.render(c, MediaTypes.PEM_CHAIN.toString(), HttpStatus.OK, attachment(c.serial() + ".pem"));
    }

    @GetMapping("/console/certificates/{serial}/der")
    @Transactional(readOnly = true)
    ResponseEntity<?> der(@PathVariable String serial) {
        Certificate c = load(serial);
        return renderer.render(c, MediaTypes.PKIX_CERT.toString(), HttpStatus.OK, attachment(c.serial() + ".cer"));
    }

    private static HttpHeaders attachment(String name) {
        HttpHeaders h = new HttpHeaders();
        h.setContentDisposition(ContentDisposition.attachment().filename(name).build());
        return h;
    }

    /**
     * Revokes one certificate. keyCompromise first shows what it will do (block the key, revoke
     * every certificate for it and the renewals made with it) and needs {@code confirm}.
     */
    @PostMapping("/console/certificates/{serial}/revoke")
    String revoke(@PathVariable String serial, @RequestParam String reason,
            @RequestParam(required = false) String invalidityDate, @RequestParam(required = false) String confirm,
            Model model, RedirectAttributes redirect) {
        RevocationReason r = reason(reason);
        Instant invalidity = invalidityDate(blank(invalidityDate));
        if (r == RevocationReason.keyCompromise && !"yes".equals(confirm)) {
            Certificate c = load(serial);
            model.addAttribute("c", renderer.summary(c));
            model.addAttribute("invalidityDate", nz(blank(invalidityDate)));
            model.addAttribute("sameKey", revocation.keyCompromiseCascade(c.serial()).size());
            return "console/confirm-key-compromise";
        }
        Certificate c = revocation.revoke(serial, r, invalidity, OperatorPrincipal.current().actor());
        redirect.addFlashAttribute("message", "Certificate " + c.serial() + " revoked (" + r.name() + ").");
        return "redirect:/console/certificates/" + c.serial();
    }

    @PostMapping("/console/certificates/{serial}/unhold")
    String unhold(@PathVariable String serial, RedirectAttributes redirect) {
        Certificate c = revocation.unhold(serial, OperatorPrincipal.current().actor());
        redirect.addFlashAttribute("message", "Hold on certificate " + c.serial() + " released.");
        return "redirect:/console/certificates/" + c.serial();
    }

    static RevocationReason reason(String name) {
        try {
            return RevocationReason.parse(name);
        } catch (IllegalArgumentException e) {
            throw ProblemException.invalidRequest("Unknown reason '" + name.replaceAll("[^\\x20-\\x7e]", "?")
                    + "'; " + e.getMessage() + ".");
        }
    }

    private static Instant invalidityDate(String text) {
        return RequestInstants.dateOrInstant("invalidityDate", text, "2026-11-20");
    }
}
