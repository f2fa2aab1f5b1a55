package dev.trent.console;


import java.util.List;

import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.servlet.mvc.support.RedirectAttributes;

import dev.trent.ca.Issuer;
import dev.trent.ca.IssuerRegistry;
import dev.trent.manufacturer.ManufacturerCas;
import dev.trent.operator.ApiKeyService;
import dev.trent.operator.OperatorPrincipal;
import dev.trent.operator.Role;
import dev.trent.profile.Profiles;
import dev.trent.web.ProblemException;
import dev.trent.webhook.WebhookService;

/**
 * The ADMIN pages (AUDITORs see issuers and manufacturer CAs): issuers and their rotation,
 * manufacturer CAs, API keys and webhooks with their delivery history. Every change is the
 * service method the API calls, with the same safeguards and audit events.
 */
@Controller
class AdminController {

    private final IssuerRegistry issuers;
    private final ManufacturerCas manufacturers;
    private final ApiKeyService apiKeys;
    private final WebhookService webhooks;
    private final Profiles profiles;

    AdminController(IssuerRegistry issuers, ManufacturerCas manufacturers, ApiKeyService apiKeys,
            WebhookService webhooks, Profiles profiles) {
        this.issuers = issuers;
        this.manufacturers = manufacturers;
        this.apiKeys = apiKeys;
        this.webhooks = webhooks;
        this.profiles = profiles;
    }

    private static String actor() {
        return OperatorPrincipal.current().actor();
    }

    @GetMapping("/console/issuers")
    String issuers(Model model) {
        model.addAttribute("issuers", issuers.summaries());
        model.addAttribute("orphaned", issuers.retiredWithoutKey());
        return "console/issuers";
    }

    /** Rotation, as {@code POST /api/v1/issuers/rotate}: a new root only when asked for explicitly. */
    @PostMapping("/console/issuers/rotate")
    String rotate(@RequestParam String keyLabel, @RequestParam(required = false) String allowNewRoot,
            RedirectAttributes redirect) {
        String previous = issuers.active().id();
        Issuer next = issuers.rotate(keyLabel.strip(), "yes".equals(allowNewRoot), actor());
        redirect.addFlashAttribute("message", previous.equals(next.id()) ? "Issuer " + next.id()
                + " was already active: nothing changed." : "Issuer " + next.id() + " is now active; " + previous
                + " is retired and keeps publishing its CRL and OCSP answers.");
        return "redirect:/console/issuers";
    }

    @GetMapping("/console/manufacturer-cas")
    String manufacturers(Model model) {
        model.addAttribute("cas", manufacturers.list());
        model.addAttribute("profiles", profiles.names());
        return "console/manufacturer-cas";
    }

    @PostMapping("/console/manufacturer-cas")
    String register(@RequestParam String name, @RequestParam String certificatePem, @RequestParam String profile,
            @RequestParam String deviceIdPrefix, @RequestParam(required = false) String deviceIdAttribute,
            RedirectAttributes redirect) {
        ManufacturerCas.View v = manufacturers.register(name, certificatePem, profile, deviceIdPrefix,
                deviceIdAttribute == null || deviceIdAttribute.isBlank() ? null : deviceIdAttribute.strip(), actor());
        redirect.addFlashAttribute("message", "Manufacturer CA " + v.name() + " registered.");
        return "redirect:/console/manufacturer-cas";
    }

    @PostMapping("/console/manufacturer-cas/{id}/remove")
    String removeManufacturer(@PathVariable long id, RedirectAttributes redirect) {
        ManufacturerCas.View v = manufacturers.remove(id, actor());
        redirect.addFlashAttribute("message", "Manufacturer CA " + v.name() + " removed: it authorises no further "
                + "enrollment; certificates issued stay valid.");
        return "redirect:/console/manufacturer-cas";
    }

    @GetMapping("/console/api-keys")
    String apiKeys(Model model) {
        model.addAttribute("keys", apiKeys.list());
        model.addAttribute("roles", Role.values());
        return "console/api-keys";
    }

    @PostMapping("/console/api-keys")
    String createKey(@RequestParam String name, @RequestParam String role, Model model) {
        Role r;
        try {
            r = Role.valueOf(role);
        } catch (IllegalArgumentException e) {
            throw ProblemException.invalidRequest("role must be one of ADMIN, OPERATOR, AUDITOR.");
        }
        model.addAttribute("created", apiKeys.create(name, r, actor()));
        return apiKeys(model);
    }

    @PostMapping("/console/api-keys/{id}/revoke")
    String revokeKey(@PathVariable long id, RedirectAttributes redirect) {
        ApiKeyService.ApiKeyView v = apiKeys.revoke(id, actor());
        redirect.addFlashAttribute("message", "API key " + v.name() + " revoked.");
        return "redirect:/console/api-keys";
    }

    @GetMapping("/console/webhooks")
    String webhooks(Model model) {
        model.addAttribute("endpoints", webhooks.list());
        model.addAttribute("eventTypes", webhooks.eventTypes());
        return "console/webhooks";
    }

    @PostMapping("/console/webhooks")
    String createWebhook(@RequestParam String url, @RequestParam(required = false) List<String> eventTypes,
            @RequestParam(required = false) String description, Model model) {
        model.addAttribute("created", webhooks.create(url.strip(), eventTypes,
                description == null || description.isBlank() ? null : description.strip(), actor()));
        return webhooks(model);
    }

    @PostMapping("/console/webhooks/{id}/delete")
    String deleteWebhook(@PathVariable long id, RedirectAttributes redirect) {
        WebhookService.EndpointView v = webhooks.delete(id, actor());
        redirect.addFlashAttribute("message", "Webhook " + v.url() + " deleted.");
        return "redirect:/console/webhooks";
    }

    @GetMapping("/console/webhooks/{id}")
    String webhook(@PathVariable long id, @RequestParam(defaultValue = "0") int page, Model model) {
        dev.trent.web.Paging.check(page, 50, 50);
        model.addAttribute("endpoint", webhooks.get(id));
        model.addAttribute("deliveries", webhooks.deliveries(id, page, 50));
        return "console/webhook";
    }

}
