package dev.trent.manufacturer;

import java.net.URI;
import java.util.List;
import java.util.Map;

import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.trent.operator.OperatorPrincipal;

/**
 * {@code /api/v1/manufacturer-cas}: the manufacturer CAs whose factory certificates (IDevIDs)
 * may enroll over EST. Listing needs AUDITOR; registering and removing ADMIN (security
 * configuration); both audited.
 */
@RestController
@RequestMapping("/api/v1/manufacturer-cas")
class ManufacturerCaController {

    private final ManufacturerCas cas;

    ManufacturerCaController(ManufacturerCas cas) {
        this.cas = cas;
    }

    record Register(String name, String certificate, String profile, String deviceIdPrefix, String deviceIdAttribute) {
    }

    @PostMapping
    ResponseEntity<ManufacturerCas.View> register(@RequestBody Register body) {
        if (body == null) {
            throw dev.trent.web.ProblemException.invalidRequest("A JSON body with 'name' and 'certificate' is required.");
        }
        ManufacturerCas.View view = cas.register(body.name(), body.certificate(), body.profile(), body.deviceIdPrefix(),
                body.deviceIdAttribute(), OperatorPrincipal.current().actor());
        return ResponseEntity.status(HttpStatus.CREATED).location(URI.create("/api/v1/manufacturer-cas/" + view.id()))
                .body(view);
    }

    @GetMapping
    Map<String, List<ManufacturerCas.View>> list() {
        return Map.of("manufacturerCas", cas.list());
    }

    @DeleteMapping("/{id}")
    ManufacturerCas.View remove(@PathVariable long id) {
        return cas.remove(id, OperatorPrincipal.current().actor());
    }
}
