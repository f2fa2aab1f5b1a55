package dev.trent.console;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.ControllerAdvice;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.ModelAttribute;

import dev.trent.operator.OperatorPrincipal;
import dev.trent.web.ProblemException;
import jakarta.servlet.http.HttpServletResponse;

/**
 * For every console page: the operator (name and role, for the header and for what the page
 * offers), and a refused action as a page that says why, with the status the API would give.
 */
@ControllerAdvice(basePackageClasses = ConsoleAdvice.class)
@Order(Ordered.HIGHEST_PRECEDENCE)
class ConsoleAdvice {

    private static final Logger log = LoggerFactory.getLogger(ConsoleAdvice.class);

    @ModelAttribute("operator")
    OperatorPrincipal operator() {
        Authentication auth = SecurityContextHolder.getContext().getAuthentication();
        return auth != null && auth.getPrincipal() instanceof OperatorPrincipal p ? p : null;
    }

    @ModelAttribute("canOperate")
    boolean canOperate() {
        OperatorPrincipal p = operator();
        return p != null && p.role() != dev.trent.operator.Role.AUDITOR;
    }

    @ModelAttribute("isAdmin")
    boolean isAdmin() {
        OperatorPrincipal p = operator();
        return p != null && p.role() == dev.trent.operator.Role.ADMIN;
    }

    /** A service's refusal ({@link dev.trent.domain.DomainException}), shown as its problem would be. */
    @ExceptionHandler(dev.trent.domain.DomainException.class)
    String domain(dev.trent.domain.DomainException e, Model model, HttpServletResponse response) {
        return problem(ProblemException.of(e), model, response);
    }

    @ExceptionHandler(ProblemException.class)
    String problem(ProblemException e, Model model, HttpServletResponse response) {
        response.setStatus(e.status().value());
        model.addAttribute("status", e.status().value());
        model.addAttribute("title", e.toProblemDetail().getTitle());
        model.addAttribute("detail", e.getMessage());
        model.addAttribute("operator", operator());
        model.addAttribute("canOperate", canOperate());
        model.addAttribute("isAdmin", isAdmin());
        log.info("Console action refused: {} {}", e.status().value(), e.type());
        return "console/error";
    }
}
