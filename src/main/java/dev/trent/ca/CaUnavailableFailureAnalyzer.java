package dev.trent.ca;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Turns a start that failed for want of the CA key into one line naming the cause, without a stack trace. */
class CaUnavailableFailureAnalyzer extends AbstractFailureAnalyzer<CaUnavailableException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, CaUnavailableException cause) {
        return new FailureAnalysis("Trent cannot use its CA key: " + cause.getMessage(),
                "Check the trent.ca.* settings (docs/ca.md, 'The CA'); or set trent.ca.start-degraded=true "
                        + "to start without the key (health DOWN, enrollment 503) until it can be reached.", cause);
    }
}
