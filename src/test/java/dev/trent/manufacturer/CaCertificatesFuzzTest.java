package dev.trent.manufacturer;

import com.code_intelligence.jazzer.junit.FuzzTest;

import dev.trent.pki.DistinguishedNames;
import dev.trent.pki.Pem;
import dev.trent.pki.StrictDer;

/**
 * Fuzzes the manufacturer CA decoder, the non-recursive DER check and the name check with
 * arbitrary bytes: the only failures they may report are {@link CaCertificates.Refused},
 * {@link StrictDer.NotDer} and a reason string; any other exception or error (a parser's runtime
 * exception leaking out, a StackOverflowError from deep nesting, an OutOfMemoryError from a
 * forged length) fails the test. In a normal build the saved inputs under
 * {@code src/test/resources/dev/trent/manufacturer/CaCertificatesFuzzTestInputs} replay (a good
 * CA, a BOOLEAN CN, deep BER and DER, BER lengths, trailing bytes, a forged length); run
 * {@code JAZZER_FUZZ=1 ./mvnw test -Dtest=CaCertificatesFuzzTest} to search for new ones.
 */
class CaCertificatesFuzzTest {

    @FuzzTest(maxDuration = "60s")
    void readableWhenArbitraryBytesThenCertificateOrRefused(byte[] data) {
        try {
            StrictDer.check(data, CaCertificates.MAX_DEPTH);
        } catch (StrictDer.NotDer expected) {
            // permitted
        }
        DistinguishedNames.problem(data);
        try {
            CaCertificates.caProblem(CaCertificates.readable(data));
        } catch (CaCertificates.Refused expected) {
            // permitted
        }
        try {
            CaCertificates.registrable(Pem.encode("CERTIFICATE", data));
        } catch (CaCertificates.Refused expected) {
            // permitted
        }
    }
}
