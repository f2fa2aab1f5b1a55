package dev.trent.enrollment;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzzes the CSR decoder with arbitrary bytes in both encodings: the only failure it may report
 * is {@link CsrException}; any other exception (a Bouncy Castle runtime exception leaking out,
 * an OutOfMemoryError from a forged length) fails the test. In a normal build the saved inputs
 * under {@code src/test/resources/dev/trent/enrollment/CsrDecoderFuzzTestInputs} replay; run
 * {@code JAZZER_FUZZ=1 ./mvnw test -Dtest=CsrDecoderFuzzTest} to search for new ones.
 */
class CsrDecoderFuzzTest {

    @FuzzTest(maxDuration = "60s")
    void decodeWhenArbitraryBytesThenDecodedOrCsrException(byte[] data) {
        for (CsrDecoder.Encoding encoding : CsrDecoder.Encoding.values()) {
            try {
                DecodedCsr csr = CsrDecoder.decode(data, encoding);
                CsrDecoder.verifyProofOfPossession(csr);
            } catch (CsrException expected) {
                // the one permitted failure
            }
        }
    }
}
