package dev.trent.issuance;

import java.util.List;

/**
 * One small step of an issuance: it checks what earlier stages decided (a validator, which
 * throws to refuse) or decides its own part (a modifier). A flow is an ordered list of stages
 * ({@link #run}); every flow, device, TLS server and OCSP responder, is composed from the same
 * stage types ({@link IssuanceStages}), in the spirit of step-ca's SignOptions.
 */
@FunctionalInterface
interface IssuanceStage {

    void apply(Issuance issuance);

    /** Runs {@code stages} in order on {@code issuance}; the first that throws ends the issuance. */
    static Issuance run(List<IssuanceStage> stages, Issuance issuance) {
        for (IssuanceStage stage : stages) {
            stage.apply(issuance);
        }
        return issuance;
    }
}
