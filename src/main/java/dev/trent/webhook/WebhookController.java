package dev.trent.webhook;

import java.net.URI;
import java.util.List;

import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.trent.operator.OperatorPrincipal;

/** {@code /api/v1/webhooks}: ADMIN only (enforced in the security configuration). */
@RestController
@RequestMapping("/api/v1/webhooks")
class WebhookController {

    private final WebhookService service;

    WebhookController(WebhookService service) {
        this.service = service;
    }

    record CreateWebhook(String url, List<String> eventTypes, String description) {
    }

    @PostMapping
    ResponseEntity<WebhookService.EndpointView> create(@RequestBody CreateWebhook body) {
        WebhookService.EndpointView view = service.create(body.url(), body.eventTypes(), body.description(),
                OperatorPrincipal.current().actor());
        return ResponseEntity.status(HttpStatus.CREATED).location(URI.create("/api/v1/webhooks/" + view.id()))
                .header("Cache-Control", "no-store").body(view);
    }

    @GetMapping
    List<WebhookService.EndpointView> list() {
        return service.list();
    }

    @GetMapping("/{id}")
    WebhookService.EndpointView get(@PathVariable long id) {
        return service.get(id);
    }

    @DeleteMapping("/{id}")
    WebhookService.EndpointView delete(@PathVariable long id) {
        return service.delete(id, OperatorPrincipal.current().actor());
    }

    @GetMapping("/{id}/deliveries")
    WebhookService.DeliveryPage deliveries(@PathVariable long id, @RequestParam(defaultValue = "0") int page,
            @RequestParam(defaultValue = "50") int size) {
        return service.deliveries(id, page, size);
    }
}
