package dev.trent.console;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;

import dev.trent.operator.OperatorPrincipal;
import dev.trent.revocation.RevocationReason;
import dev.trent.revocation.RevocationService;
import dev.trent.web.ProblemException;
import jakarta.servlet.http.HttpSession;

/**
 * Bulk revocation by device, profile or token batch, always in two steps: the dry run (how
 * many, a sample, how they divide between profiles), kept in the session, then its
 * confirmation, which can only name a dry run this session was shown. The dry run is
 * {@link RevocationService#planAll} (with what keyCompromise also revokes, by the service's own
 * rule); the confirmation is {@link RevocationService#revokeAllAsPlanned}, which locks, compares
 * with the dry run's digest and revokes in one transaction. The session keeps a dry run's
 * counts, digest and a sample, never every serial.
 */
@Controller
class BulkRevocationController {

    static final int SAMPLE = 10;
    private static final String PREVIEWS = BulkRevocationController.class.getName() + ".previews";

    private final RevocationService revocation;
    private final ConsoleQueries queries;

    BulkRevocationController(RevocationService revocation, ConsoleQueries queries) {
        this.revocation = revocation;
        this.queries = queries;
    }

    /** A dry run shown to the operator: what the confirmation will revoke. */
    record Preview(RevocationService.Selection selection, RevocationReason reason, String describe, int count,
            int cascade, String digest) {
    }

    @GetMapping("/console/revoke/bulk")
    String form(@RequestParam(required = false) String by, @RequestParam(required = false) String value,
            Model model) {
        model.addAttribute("by", by == null ? "deviceId" : by);
        model.addAttribute("value", value == null ? "" : value);
        model.addAttribute("reasons", RevocationReason.values());
        return "console/bulk";
    }

    @PostMapping("/console/revoke/bulk/preview")
    String preview(@RequestParam String by, @RequestParam String value, @RequestParam String reason, Model model,
            HttpSession session) {
        return preview(selection(by, value), CertificatesController.reason(reason), by + " = " + value.strip(), model,
                session);
    }

    private String preview(RevocationService.Selection selection, RevocationReason reason, String describe,
            Model model, HttpSession session) {
        return show(revocation.planAll(selection, reason), selection, reason, describe, model, session);
    }

    private String show(RevocationService.BulkPlan plan, RevocationService.Selection selection,
            RevocationReason reason, String describe, Model model, HttpSession session) {
        String id = UUID.randomUUID().toString();
        previews(session).put(id, new Preview(selection, reason, describe, plan.selected().size(),
                plan.cascade().size(), plan.digest()));
        model.addAttribute("previewId", id);
        model.addAttribute("describe", describe);
        model.addAttribute("reason", reason.name());
        model.addAttribute("count", plan.selected().size());
        model.addAttribute("cascade", plan.cascade().size());
        model.addAttribute("cascadeSample", plan.cascade().subList(0, Math.min(SAMPLE, plan.cascade().size())));
        model.addAttribute("sample", plan.selected().subList(0, Math.min(SAMPLE, plan.selected().size())));
        model.addAttribute("byProfile", queries.byProfile(plan.selected()));
        return "console/bulk-preview";
    }

    /**
     * Revokes what the dry run showed. When the selection or what it also revokes no longer
     * matches the same certificates (some were issued or revoked since), nothing is revoked and
     * the new dry run is shown instead.
     */
    @PostMapping("/console/revoke/bulk/confirm")
    String confirm(@RequestParam String previewId, Model model, HttpSession session) {
        Preview p = previews(session).remove(previewId);
        if (p == null) {
            throw ProblemException.badRequest("no-dry-run", "No dry run", "This confirmation names no dry run shown "
                    + "in this session (or it was already confirmed); run the dry run again.");
        }
        RevocationService.PlannedResult result = revocation.revokeAllAsPlanned(p.selection(), p.reason(),
                p.digest(), OperatorPrincipal.current().actor());
        if (result.done().isEmpty()) {
            RevocationService.BulkPlan now = result.plan();
            model.addAttribute("changed", "The selection matches other certificates than the dry run showed ("
                    + p.count() + (p.cascade() > 0 ? " + " + p.cascade() : "") + " then, " + now.selected().size()
                    + (now.cascade().isEmpty() ? "" : " + " + now.cascade().size())
                    + " now): nothing was revoked. Review this dry run.");
            return show(now, p.selection(), p.reason(), p.describe(), model, session);
        }
        RevocationService.BulkResult done = result.done().get();
        model.addAttribute("describe", p.describe());
        model.addAttribute("reason", done.reason());
        model.addAttribute("count", done.count());
        model.addAttribute("cascade", result.plan().cascade().size());
        model.addAttribute("serials", done.serials().subList(0, Math.min(SAMPLE, done.serials().size())));
        return "console/bulk-done";
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Preview> previews(HttpSession session) {
        synchronized (session) {
            Object o = session.getAttribute(PREVIEWS);
            if (o == null) {
                // Only the latest few dry runs stay confirmable.
                o = java.util.Collections.synchronizedMap(new LinkedHashMap<String, Preview>(16, 0.75f, false) {
                    @Override
                    protected boolean removeEldestEntry(Map.Entry<String, Preview> eldest) {
                        return size() > 5;
                    }
                });
                session.setAttribute(PREVIEWS, o);
            }
            return (Map<String, Preview>) o;
        }
    }

    private static RevocationService.Selection selection(String by, String value) {
        String v = value == null ? "" : value.strip();
        if (v.isEmpty()) {
            throw ProblemException.invalidRequest("Give the device id, profile or batch id to select by.");
        }
        return switch (by) {
            case "deviceId" -> new RevocationService.Selection(v, null, null);
            case "profile" -> new RevocationService.Selection(null, v, null);
            case "batchId" -> {
                try {
                    yield new RevocationService.Selection(null, null, UUID.fromString(v));
                } catch (IllegalArgumentException e) {
                    throw ProblemException.invalidRequest("A batch id is a UUID, as the token batch page shows it.");
                }
            }
            default -> throw ProblemException.invalidRequest("Select by deviceId, profile or batchId.");
        };
    }

}
