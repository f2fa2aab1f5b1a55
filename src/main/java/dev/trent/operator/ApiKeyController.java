package dev.trent.operator;

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
import org.springframework.web.bind.annotation.RestController;

/** {@code /api/v1/api-keys}: ADMIN only (enforced in the security configuration). */
@RestController
@RequestMapping("/api/v1/api-keys")
class ApiKeyController {

    private final ApiKeyService service;

    ApiKeyController(ApiKeyService service) {
        this.service = service;
    }

    record CreateApiKey(String name, Role role) {
    }

    @PostMapping
    ResponseEntity<ApiKeyService.ApiKeyView> create(@RequestBody CreateApiKey body) {
        ApiKeyService.ApiKeyView view = service.create(body.name(), body.role(), OperatorPrincipal.current().actor());
        return ResponseEntity.status(HttpStatus.CREATED).location(URI.create("/api/v1/api-keys/" + view.id()))
                .header("Cache-Control", "no-store").body(view);
    }

    @GetMapping
    List<ApiKeyService.ApiKeyView> list() {
        return service.list();
    }

    @DeleteMapping("/{id}")
    ApiKeyService.ApiKeyView revoke(@PathVariable long id) {
        return service.revoke(id, OperatorPrincipal.current().actor());
    }
}
