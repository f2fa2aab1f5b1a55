package dev.trent.web;

import java.io.IOException;

import org.springframework.core.Ordered;
import org.springframework.stereotype.Component;
import org.springframework.web.servlet.HandlerExceptionResolver;
import org.springframework.web.servlet.ModelAndView;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * 503 problem+json with {@code Retry-After} when a controller fails because PostgreSQL cannot be
 * reached ({@link DatabaseUnavailable}), or 503 database-timeout without it when a statement ran
 * past the statement timeout, decided on the whole exception (causes included), before
 * the {@code @ExceptionHandler}s run: {@link ProblemHandler}'s catch-all would answer 500.
 */
@Component
class DatabaseUnavailableResolver implements HandlerExceptionResolver, Ordered {

    private final DatabaseUnavailable outage;

    DatabaseUnavailableResolver(DatabaseUnavailable outage) {
        this.outage = outage;
    }

    @Override
    public ModelAndView resolveException(HttpServletRequest request, HttpServletResponse response, Object handler,
            Exception ex) {
        boolean timedOut = DatabaseUnavailable.timedOut(ex);
        if (!timedOut && !DatabaseUnavailable.causedBy(ex) || response.isCommitted()) {
            return null;
        }
        if (timedOut) {
            outage.timeoutLogged(request.getMethod() + " " + request.getRequestURI());
        } else {
            outage.logged(ex, request.getMethod() + " " + request.getRequestURI());
        }
        try {
            DatabaseUnavailableFilter.write(request, response, timedOut);
        } catch (IOException e) {
            return null;
        }
        return new ModelAndView();
    }

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE + 1;
    }
}
