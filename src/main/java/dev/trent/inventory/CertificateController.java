package dev.trent.inventory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.springframework.data.domain.Page;
import org.springframework.data.domain.PageRequest;
import org.springframework.data.domain.Sort;
import org.springframework.data.jpa.domain.Specification;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.trent.config.Transactions;
import dev.trent.pki.SerialNumbers;
import dev.trent.web.ProblemException;
import dev.trent.web.RequestInstants;

/** {@code /api/v1/certificates}: search and fetch issued certificates (AUDITOR and up). */
@RestController
@RequestMapping("/api/v1/certificates")
class CertificateController {

    private static final int MAX_PAGE_SIZE = 500;

    private final CertificateRepository repository;
    private final CertificateRenderer renderer;

    CertificateController(CertificateRepository repository, CertificateRenderer renderer) {
        this.repository = repository;
        this.renderer = renderer;
    }

    record PageView(List<CertificateRenderer.CertificateView> items, int page, int size, long totalItems,
            int totalPages) {
    }

    @GetMapping
    @Transactional(transactionManager = Transactions.JPA, readOnly = true)
    PageView list(@RequestParam(required = false) String deviceId, @RequestParam(required = false) String status,
            @RequestParam(required = false) String profile, @RequestParam(required = false) String expiringBefore,
            @RequestParam(defaultValue = "0") int page, @RequestParam(defaultValue = "50") int size) {
        dev.trent.web.Paging.check(page, size, MAX_PAGE_SIZE);
        List<Specification<CertificateRecord>> specs = new ArrayList<>();
        specs.add((root, q, cb) -> root.get("status").in(CertificateStatus.ISSUED, CertificateStatus.REVOKED));
        if (deviceId != null) {
            specs.add((root, q, cb) -> cb.equal(root.get("deviceId"), deviceId));
        }
        if (status != null) {
            CertificateStatus s = parseStatus(status);
            specs.add((root, q, cb) -> cb.equal(root.get("status"), s));
        }
        if (profile != null) {
            specs.add((root, q, cb) -> cb.equal(root.get("profile"), profile));
        }
        if (expiringBefore != null) {
            Instant before = RequestInstants.storable("expiringBefore",
                    RequestInstants.instant("expiringBefore", expiringBefore, "2027-01-01T00:00:00Z"));
            specs.add((root, q, cb) -> cb.lessThan(root.get("notAfter"), before));
        }
        Page<CertificateRecord> result = repository.findAll(Specification.allOf(specs),
                PageRequest.of(page, size, Sort.by(Sort.Order.desc("createdAt"), Sort.Order.desc("id"))));
        return new PageView(result.getContent().stream().map(r -> renderer.summary(r.toCertificate())).toList(), page, size,
                result.getTotalElements(), result.getTotalPages());
    }

    @GetMapping("/{serial}")
    @Transactional(transactionManager = Transactions.JPA, readOnly = true)
    ResponseEntity<?> get(@PathVariable String serial,
            @RequestHeader(value = HttpHeaders.ACCEPT, required = false) String accept) {
        String canonical = SerialNumbers.canonical(serial);
        if (canonical == null) {
            throw ProblemException.invalidRequest("'" + serial.replaceAll("[^\\x20-\\x7e]", "?")
                    + "' is not a serial number (hexadecimal, optionally with colons).");
        }
        CertificateRecord record = repository.findBySerial(canonical)
                .filter(r -> r.status().delivered())
                .orElseThrow(() -> ProblemException.notFound("No certificate with serial " + canonical + "."));
        return renderer.render(record.toCertificate(), accept, HttpStatus.OK, new HttpHeaders());
    }

    private static CertificateStatus parseStatus(String status) {
        try {
            CertificateStatus s = CertificateStatus.valueOf(status.toUpperCase(Locale.ROOT));
            if (s.delivered()) {
                return s;
            }
        } catch (IllegalArgumentException e) {
            // fall through to the problem below
        }
        throw ProblemException.invalidRequest("status must be one of ISSUED, REVOKED.");
    }

}
