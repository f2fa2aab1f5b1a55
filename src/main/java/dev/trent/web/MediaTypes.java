package dev.trent.web;

import java.util.List;

import org.springframework.http.MediaType;

/** Media types of the PKI formats Trent speaks, and Accept negotiation over them. */
public final class MediaTypes {

    /** RFC 8555 section 9.1: PEM certificate chain. */
    public static final MediaType PEM_CHAIN = MediaType.parseMediaType("application/pem-certificate-chain");
    /** RFC 2585: one DER certificate. */
    public static final MediaType PKIX_CERT = MediaType.parseMediaType("application/pkix-cert");
    public static final MediaType PKCS10 = MediaType.parseMediaType("application/pkcs10");
    public static final MediaType X_PEM_FILE = MediaType.parseMediaType("application/x-pem-file");
    public static final MediaType TEXT_CSV = MediaType.parseMediaType("text/csv");

    private MediaTypes() {
    }

    /**
     * Picks the first of {@code offered} (in server preference order) that the Accept header
     * allows, honouring q-values; a missing or empty Accept header means the first offered.
     * Parsing is Spring's ({@link MediaType#parseMediaTypes}); the choice is made here and not by
     * {@code @GetMapping(produces = ...)} because Spring MVC's producible-type matching ignores
     * q-values ({@code Accept: *}{@code /*;q=0} matches every type), while RFC 9110 12.5.1 makes
     * q=0 "not acceptable" (406); and because the enrollment endpoints negotiate before they
     * consume a token.
     *
     * @throws ProblemException 406 naming what can be served
     */
    public static MediaType negotiate(String accept, List<MediaType> offered) {
        if (accept == null || accept.isBlank()) {
            return offered.get(0);
        }
        List<MediaType> wanted;
        try {
            wanted = MediaType.parseMediaTypes(accept);
        } catch (RuntimeException e) {
            throw ProblemException.notAcceptable("The Accept header cannot be parsed.");
        }
        wanted = new java.util.ArrayList<>(wanted);
        // Stable sort: equal q-values keep the client's order.
        wanted.sort(java.util.Comparator.comparingDouble(MediaType::getQualityValue).reversed());
        // RFC 9110 12.5.1: q=0 means "not acceptable", also for what a wildcard would match.
        List<MediaType> candidates = new java.util.ArrayList<>(offered);
        for (MediaType w : wanted) {
            if (w.getQualityValue() <= 0) {
                candidates.removeIf(w::includes);
            }
        }
        for (MediaType w : wanted) {
            if (w.getQualityValue() <= 0) {
                continue;
            }
            for (MediaType o : candidates) {
                if (w.includes(o)) {
                    return o;
                }
            }
        }
        throw ProblemException.notAcceptable("This resource is available as " + offered.stream()
                .map(MediaType::toString).reduce((a, b) -> a + ", " + b).orElse("") + ".");
    }
}
