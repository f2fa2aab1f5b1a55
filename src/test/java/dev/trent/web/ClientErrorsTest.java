package dev.trent.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;

import org.junit.jupiter.api.Test;
import org.springframework.dao.DataIntegrityViolationException;

/** Which exceptions are the client's fault, and which Content-Types can describe a body. */
class ClientErrorsTest {

    @Test
    void classifyWhenPostgresDataExceptionDeepInTheCausesThen400NamingIt() {
        Exception e = new DataIntegrityViolationException("could not execute statement",
                new RuntimeException(new SQLException("invalid byte sequence for encoding \"UTF8\": 0x00", "22021")));
        ProblemException p = ClientErrors.classify(e).orElseThrow();
        assertThat(p.status().value()).isEqualTo(400);
        assertThat(p.getMessage()).contains("NUL");
        assertThat(ClientErrors.classify(new SQLException("timestamp out of range", "22008")).orElseThrow()
                .getMessage()).contains("date");
    }

    @Test
    void classifyWhenServerFaultThenNotAClientError() {
        assertThat(ClientErrors.classify(new SQLException("connection refused", "08001"))).isEmpty();
        assertThat(ClientErrors.classify(new IllegalStateException("bug"))).isEmpty();
        assertThat(ClientErrors.classify(new NullPointerException())).isEmpty();
    }

    @Test
    void classifyWhenTheDatabaseConnectionDiesWithAnEofThenNotTheClientsFault() {
        // How the PostgreSQL driver reports a backend that died mid-request (SQLSTATE 08006).
        SQLException lost = new SQLException("An I/O error occurred while sending to the backend.", "08006",
                new java.io.EOFException());
        assertThat(ClientErrors.classify(new org.springframework.dao.DataAccessResourceFailureException("x", lost)))
                .isEmpty();
        assertThat(ClientErrors.classify(new IllegalStateException(new SQLException("wrapped", "XX000",
                new java.io.EOFException())))).as("an EOF under any SQL error is the server's").isEmpty();
        assertThat(ClientErrors.classify(new java.io.EOFException())).as("an EOF reading the body is the client's")
                .isPresent();
        assertThat(ClientErrors.classify(new org.apache.coyote.BadRequestException("bad chunk")))
                .as("a malformed chunked body").isPresent();
    }

    @Test
    void classifyWhenTomcatCannotDecodeParametersThen400WithoutTheirValues() {
        ProblemException p = ClientErrors.classify(new IllegalStateException(
                new org.apache.tomcat.util.http.InvalidParameterException("Parameter [token] with value [secret]")))
                .orElseThrow();
        assertThat(p.status().value()).isEqualTo(400);
        assertThat(p.getMessage()).doesNotContain("secret");
    }

    @Test
    void contentTypeWhenConcreteThenAcceptedElse415() {
        assertThat(ClientErrorFilter.contentTypeProblem("application/json")).isNull();
        assertThat(ClientErrorFilter.contentTypeProblem("application/pkcs10; charset=\"utf-8\"")).isNull();
        for (String bad : new String[] {"*/*", "application/*+json", "application/*", ";", "", "/",
            "application/json; charset=x", "application/pkcs10; charset=\"", "a/b; charset=ut f"}) {
            ProblemException p = ClientErrorFilter.contentTypeProblem(bad);
            assertThat(p).as(bad).isNotNull();
            assertThat(p.status().value()).isEqualTo(415);
        }
    }

    @Test
    void logLineWhenControlCharactersOrLongThenOneShortLine() {
        assertThat(ClientErrorLog.clean("/a\nb\r\u0000c")).isEqualTo("/a?b??c");
        assertThat(ClientErrorLog.clean("x".repeat(500))).hasSize(203).endsWith("...");
    }
}
