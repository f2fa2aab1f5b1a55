package dev.trent.web;

import org.springframework.http.ProblemDetail;

import jakarta.servlet.http.HttpServletRequest;

/**
 * Told of every problem answered to a request, after it is decided (e.g. the enrollment package
 * records refused enrollments in the audit log). A listener must not throw: the answer stands.
 */
public interface ProblemListener {

    void answered(HttpServletRequest request, ProblemException problem, ProblemDetail detail);
}
