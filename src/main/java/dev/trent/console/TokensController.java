package dev.trent.console;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.springframework.http.CacheControl;
import org.springframework.http.ContentDisposition;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.servlet.mvc.support.RedirectAttributes;

import dev.trent.enrollment.EnrollmentTokenService;
import dev.trent.operator.OperatorPrincipal;
import dev.trent.profile.Profiles;
import dev.trent.web.MediaTypes;
import dev.trent.web.ProblemException;
import jakarta.servlet.http.HttpSession;

/**
 * Enrollment tokens through {@link EnrollmentTokenService}, as the API makes them: one token
 * (shown once, on the page that creates it), or a batch for a manufacturing line, whose CSV is
 * kept in the operator's session only until it is downloaded once (the database holds token
 * hashes, never tokens). The batch's page shows which tokens were used.
 */
@Controller
class TokensController {

    private static final String PENDING_CSV = TokensController.class.getName() + ".csv";

    private final EnrollmentTokenService tokens;
    private final ConsoleQueries queries;
    private final Profiles profiles;

    TokensController(EnrollmentTokenService tokens, ConsoleQueries queries, Profiles profiles) {
        this.tokens = tokens;
        this.queries = queries;
        this.profiles = profiles;
    }

    @GetMapping("/console/tokens")
    String list(Model model) {
        model.addAttribute("profiles", profiles.names());
        model.addAttribute("batches", queries.batches(50));
        model.addAttribute("singles", queries.singleTokens(50));
        return "console/tokens";
    }

    @PostMapping("/console/tokens")
    String create(@RequestParam String deviceId, @RequestParam String profile,
            @RequestParam(required = false) Long ttlHours, @RequestParam(required = false) String dnsNames,
            Model model) {
        List<String> names = dnsNames == null || dnsNames.isBlank() ? null
                : Arrays.stream(dnsNames.split("[,\\s]+")).filter(s -> !s.isBlank()).toList();
        EnrollmentTokenService.IssuedToken t = tokens.create(deviceId.strip(), profile, ttl(ttlHours), names,
                OperatorPrincipal.current().actor());
        model.addAttribute("token", t);
        return "console/token-created";
    }

    /** Hours as seconds; the service decides what is allowed (trent.enrollment max TTL), as for the API. */
    private static Long ttl(Long hours) {
        if (hours == null) {
            return null;
        }
        // Saturated rather than overflowed: an absurd value stays absurd, and the service refuses it.
        long limit = Long.MAX_VALUE / 3600;
        return hours > limit ? Long.MAX_VALUE : hours < -limit ? Long.MIN_VALUE : hours * 3600;
    }

    @PostMapping("/console/tokens/batch")
    String createBatch(@RequestParam String deviceIds, @RequestParam String profile,
            @RequestParam(required = false) Long ttlHours, HttpSession session, RedirectAttributes redirect) {
        List<String> ids = Arrays.stream(deviceIds.split("[,\\s]+")).filter(s -> !s.isBlank()).toList();
        EnrollmentTokenService.Batch batch = tokens.createBatch(ids, profile, ttl(ttlHours),
                OperatorPrincipal.current().actor());
        pending(session).put(batch.batchId().toString(), batch.csv());
        redirect.addFlashAttribute("message", batch.tokens().size() + " tokens created. Download the CSV now: "
                + "it can be downloaded once, and the tokens cannot be shown again.");
        return "redirect:/console/tokens/batch/" + batch.batchId();
    }

    @GetMapping("/console/tokens/batch/{id}")
    String batch(@PathVariable String id, Model model, HttpSession session) {
        UUID batchId = uuid(id);
        List<ConsoleQueries.TokenRow> rows = queries.batch(batchId);
        if (rows.isEmpty()) {
            throw ProblemException.notFound("No token batch " + batchId + ".");
        }
        model.addAttribute("batchId", batchId.toString());
        model.addAttribute("rows", rows);
        model.addAttribute("used", rows.stream().filter(r -> r.usedAt() != null).count());
        model.addAttribute("csvPending", pending(session).containsKey(batchId.toString()));
        return "console/token-batch";
    }

    /**
     * The batch's CSV, once: it leaves the session as it is sent. A POST with the CSRF token, so
     * that no prefetch, HEAD or link preview consumes it (GET and HEAD are refused: 405).
     */
    @PostMapping("/console/tokens/batch/{id}/csv")
    ResponseEntity<?> csv(@PathVariable String id, HttpSession session) {
        UUID batchId = uuid(id);
        String csv = pending(session).remove(batchId.toString());
        if (csv == null) {
            throw new ProblemException(HttpStatus.GONE, "batch-csv-gone", "CSV no longer available",
                    "The CSV of batch " + batchId + " was downloaded already or belongs to another session; its "
                            + "tokens cannot be shown again. Revoke the batch's unused tokens' devices or make a new batch.");
        }
        return ResponseEntity.ok().cacheControl(CacheControl.noStore())
                .contentType(new MediaType(MediaTypes.TEXT_CSV, StandardCharsets.UTF_8))
                .header("Content-Disposition", ContentDisposition.attachment()
                        .filename("tokens-" + batchId + ".csv").build().toString())
                .body(csv.getBytes(StandardCharsets.UTF_8));
    }

    private static UUID uuid(String id) {
        try {
            return UUID.fromString(id);
        } catch (IllegalArgumentException e) {
            throw ProblemException.invalidRequest("A batch id is a UUID.");
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, String> pending(HttpSession session) {
        synchronized (session) {
            Object o = session.getAttribute(PENDING_CSV);
            if (o == null) {
                o = Collections.synchronizedMap(new LinkedHashMap<String, String>());
                session.setAttribute(PENDING_CSV, o);
            }
            return (Map<String, String>) o;
        }
    }
}
