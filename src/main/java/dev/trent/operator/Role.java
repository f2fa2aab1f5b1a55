package dev.trent.operator;

/** Operator roles. ADMIN includes OPERATOR, which includes AUDITOR. */
public enum Role {
    /** Everything, including API keys. */
    ADMIN,
    /** Enrollment tokens, certificates, and (next issue) revocation. */
    OPERATOR,
    /** Read only. */
    AUDITOR
}
