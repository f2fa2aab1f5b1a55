package dev.trent.console;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.TypeMismatchException;
import org.springframework.core.Ordered;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.stereotype.Component;
import org.springframework.web.ErrorResponse;
import org.springframework.web.servlet.HandlerExceptionResolver;
import org.springframework.web.servlet.ModelAndView;

import dev.trent.operator.OperatorPrincipal;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The request errors Spring MVC itself finds on a console path (a missing or ill-typed
 * parameter, a method the page does not take, an unknown page) as a console page with the
 * same 4xx status, instead of the API's problem+json. Some of them happen before any console
 * controller is chosen, where {@link ConsoleAdvice} does not apply.
 */
@Component
class ConsoleErrors implements HandlerExceptionResolver, Ordered {

    private static final Logger log = LoggerFactory.getLogger(ConsoleErrors.class);

    @Override
    public int getOrder() {
        // After Spring Boot's DefaultErrorAttributes (which only records), before the MVC resolvers.
        return Ordered.HIGHEST_PRECEDENCE + 1;
    }

    @Override
    public ModelAndView resolveException(HttpServletRequest request, HttpServletResponse response, Object handler,
            Exception ex) {
        String path = request.getRequestURI().substring(request.getContextPath().length());
        if (!path.equals("/console") && !path.startsWith("/console/")) {
            return null;
        }
        HttpStatusCode status;
        String title;
        String detail;
        if (ex instanceof ErrorResponse er && er.getStatusCode().is4xxClientError()) {
            status = er.getStatusCode();
            org.springframework.http.HttpStatus known = org.springframework.http.HttpStatus.resolve(status.value());
            title = known == null ? null : known.getReasonPhrase();
            detail = ex.getMessage();
            er.getHeaders().forEach((name, values) -> values.forEach(v -> response.addHeader(name, v)));
        } else if (ex instanceof TypeMismatchException tm) {
            status = HttpStatusCode.valueOf(400);
            title = "Bad Request";
            detail = "Parameter '" + tm.getPropertyName() + "' has the wrong form.";
        } else if (ex instanceof HttpMessageNotReadableException) {
            status = HttpStatusCode.valueOf(400);
            title = "Bad Request";
            detail = "The form could not be read.";
        } else {
            return null;
        }
        log.info("Console request refused: {} {}", status.value(), ex.getClass().getSimpleName());
        response.setStatus(status.value());
        ModelAndView mav = new ModelAndView("console/error");
        mav.setStatus(org.springframework.http.HttpStatus.valueOf(status.value()));
        mav.addObject("status", status.value());
        mav.addObject("title", title == null ? "Request refused" : title);
        mav.addObject("detail", detail == null ? "This request cannot be served." : detail);
        OperatorPrincipal operator = operator();
        mav.addObject("operator", operator);
        mav.addObject("canOperate", operator != null && operator.role() != dev.trent.operator.Role.AUDITOR);
        mav.addObject("isAdmin", operator != null && operator.role() == dev.trent.operator.Role.ADMIN);
        return mav;
    }

    private static OperatorPrincipal operator() {
        var auth = org.springframework.security.core.context.SecurityContextHolder.getContext().getAuthentication();
        return auth != null && auth.getPrincipal() instanceof OperatorPrincipal p ? p : null;
    }
}
