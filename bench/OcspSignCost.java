import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Provider;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.util.Arrays;
import java.util.Date;

import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.BasicOCSPRespBuilder;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.CertificateStatus;
import org.bouncycastle.cert.ocsp.OCSPRespBuilder;
import org.bouncycastle.cert.ocsp.RespID;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.operator.DigestCalculatorProvider;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;

/**
 * CPU cost of one live-signed OCSP answer without HTTP, on one thread: the bare ECDSA P-256
 * signature (one initialised Bouncy Castle Signature reused) against building, signing and
 * encoding a whole nonce-carrying OCSPResponse the way OcspService does it. The difference is
 * what the response building adds to the signature. A single-file program (JDK 17):
 *
 * <pre>
 * CP=$(ls ~/.m2/repository/org/bouncycastle/{bcprov,bcpkix,bcutil}-jdk18on/1.86/*.jar | tr '\n' :)
 * java -cp "$CP" bench/OcspSignCost.java [rounds=7] [opsPerRound=20000]
 * </pre>
 */
public final class OcspSignCost {

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        int ops = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        Provider bc = new BouncyCastleProvider();
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC", bc);
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair keys = g.generateKeyPair();
        X500Name name = new X500Name("CN=OCSP responder");
        X509CertificateHolder responder = new JcaX509v3CertificateBuilder(name, BigInteger.ONE, new Date(),
                new Date(System.currentTimeMillis() + 86_400_000L), name, keys.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").setProvider(bc).build(keys.getPrivate()));
        DigestCalculatorProvider digests = new JcaDigestCalculatorProviderBuilder().setProvider(bc).build();
        CertificateID id = new CertificateID(digests.get(CertificateID.HASH_SHA1), responder,
                new BigInteger("7f3a9c21d4e5b6a7980112233445566", 16));
        byte[] nonce = new byte[16];
        byte[] tbs = new byte[200]; // about the size of a one-certificate ResponseData
        Signature bare = Signature.getInstance("SHA256withECDSA", bc);
        bare.initSign(keys.getPrivate());

        double[] signUs = new double[rounds];
        double[] responseUs = new double[rounds];
        for (int round = -1; round < rounds; round++) { // round -1 warms up
            long t0 = System.nanoTime();
            for (int i = 0; i < ops; i++) {
                bare.update(tbs);
                bare.sign();
            }
            long t1 = System.nanoTime();
            for (int i = 0; i < ops; i++) {
                BasicOCSPRespBuilder b = new BasicOCSPRespBuilder(
                        new RespID(responder.getSubjectPublicKeyInfo(), digests.get(CertificateID.HASH_SHA1)));
                Date now = new Date();
                b.addResponse(id, CertificateStatus.GOOD, now, new Date(now.getTime() + 3_600_000L), null);
                b.setResponseExtensions(new Extensions(new Extension(OCSPObjectIdentifiers.id_pkix_ocsp_nonce, false,
                        new DEROctetString(new DEROctetString(nonce)))));
                BasicOCSPResp basic = b.build(new JcaContentSignerBuilder("SHA256withECDSA").setProvider(bc)
                        .build(keys.getPrivate()), new X509CertificateHolder[] {responder}, now);
                new OCSPRespBuilder().build(OCSPRespBuilder.SUCCESSFUL, basic).getEncoded();
            }
            long t2 = System.nanoTime();
            if (round >= 0) {
                signUs[round] = (t1 - t0) / 1e3 / ops;
                responseUs[round] = (t2 - t1) / 1e3 / ops;
            }
        }
        Arrays.sort(signUs);
        Arrays.sort(responseUs);
        double sign = signUs[rounds / 2];
        double response = responseUs[rounds / 2];
        System.out.printf("bare ECDSA P-256 signature:      %6.1f us (median of %d rounds)%n", sign, rounds);
        System.out.printf("whole OCSP response with nonce:  %6.1f us%n", response);
        System.out.printf("building and encoding adds:      %6.1f us (%.0f%% of the signature)%n", response - sign,
                100 * (response - sign) / sign);
    }
}
