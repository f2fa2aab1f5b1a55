package dev.trent.ocsp;

import com.code_intelligence.jazzer.junit.FuzzTest;

/**
 * Fuzzes the OCSP request decoder: the only failure it may report is
 * {@link OcspRequestDecoder.MalformedOcspRequest} (answered as malformedRequest); anything else
 * (a runtime exception from the ASN.1 parser, an OutOfMemoryError from a forged length) fails.
 * Saved inputs under {@code src/test/resources/dev/trent/ocsp/OcspRequestDecoderFuzzTestInputs}
 * replay in every build; {@code JAZZER_FUZZ=1 ./mvnw test -Dtest=OcspRequestDecoderFuzzTest}
 * searches for new ones.
 */
class OcspRequestDecoderFuzzTest {

    @FuzzTest(maxDuration = "60s")
    void decodeWhenArbitraryBytesThenDecodedOrMalformed(byte[] data) {
        try {
            OcspRequestDecoder.Decoded d = OcspRequestDecoder.decode(data);
            for (var r : d.requests()) {
                r.getCertID().getSerialNumber();
                r.getCertID().getHashAlgOID();
            }
        } catch (OcspRequestDecoder.MalformedOcspRequest expected) {
            // the one permitted failure
        }
    }
}
