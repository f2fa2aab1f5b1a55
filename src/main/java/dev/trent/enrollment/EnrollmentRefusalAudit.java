package dev.trent.enrollment;

import java.util.LinkedHashMap;
import java.util.Map;

import org.springframework.http.ProblemDetail;
import org.springframework.stereotype.Component;

import dev.trent.audit.AuditLog;
import dev.trent.audit.FailureBursts;
import dev.trent.security.DevicePaths;
import dev.trent.web.ProblemException;
import dev.trent.web.ProblemListener;
import jakarta.servlet.http.HttpServletRequest;

/**
 * Enrollment refusals in the audit log. A refusal of a request whose credential Trent had
 * accepted (a known token, a Trent or factory certificate; see
 * {@link EnrollmentService#CREDENTIAL_ACCEPTED}) is recorded as {@code enrollment.refused} with
 * the device as actor; any other refusal (no or an unknown credential) is counted per address
 * and recorded only as a burst, so that anonymous traffic cannot flood the log. Protocol errors
 * (413, 415, 404, tls-required) are not security decisions and stay out.
 */
@Component
class EnrollmentRefusalAudit implements ProblemListener {

    private final AuditLog audit;
    private final FailureBursts bursts;

    EnrollmentRefusalAudit(AuditLog audit, FailureBursts bursts) {
        this.audit = audit;
        this.bursts = bursts;
    }

    @Override
    public void answered(HttpServletRequest request, ProblemException e, ProblemDetail pd) {
        String path = request.getRequestURI();
        if (!DevicePaths.matches(path)) {
            return;
        }
        String type = pd.getType().toString().substring(ProblemException.TYPE_BASE.length());
        int status = e.status().value();
        if (type.equals("tls-required") || status != 400 && status != 401 && status != 403 && status != 409) {
            return;
        }
        Object device = request.getAttribute(EnrollmentService.CREDENTIAL_ACCEPTED);
        if (device == null) {
            bursts.failed(request.getRemoteAddr(), "enrollment");
            return;
        }
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("path", path);
        details.put("status", status);
        details.put("problem", type);
        details.put("detail", e.getMessage());
        details.put("remoteAddress", request.getRemoteAddr());
        audit.recordStandalone("device:" + device, "enrollment.refused", path, details);
    }
}
