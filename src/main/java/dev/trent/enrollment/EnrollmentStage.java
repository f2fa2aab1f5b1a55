package dev.trent.enrollment;

import java.util.List;

/**
 * One small step of a device enrollment (decode, authenticate, resolve the profile, key
 * policy, proof of possession, issue, record, audit); each flow (token, renewal, IDevID, keygen)
 * is an ordered list of them ({@link EnrollmentStages}), ending in the issuance's own stages.
 */
@FunctionalInterface
interface EnrollmentStage {

    void apply(Enrollment enrollment);

    /** Runs {@code stages} in order until one answers the request or all have run. */
    static Enrollment run(List<EnrollmentStage> stages, Enrollment enrollment) {
        for (EnrollmentStage stage : stages) {
            if (enrollment.answer != null) {
                break;
            }
            stage.apply(enrollment);
        }
        return enrollment;
    }
}
