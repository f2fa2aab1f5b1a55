/*
 * Verifies a certificate chain with a CRL the way an mbedTLS device does (ESP-IDF, MicroPython
 * and the like use these very calls). Compiled by MbedTlsCrlIT against Debian's libmbedtls-dev:
 *
 *   gcc -o crl_verify crl_verify.c -lmbedx509 -lmbedcrypto
 *   crl_verify <root.pem> <intermediate.pem> <leaf.pem> <crl.der|crl.pem>
 *
 * Prints one "key value" pair per line for the test to read:
 *   version <mbedTLS version>
 *   crl_parse <return of mbedtls_x509_crl_parse, e.g. 0 or -0x2562>
 *   verify <return of mbedtls_x509_crt_verify>
 *   flags <verification flags, hex>
 *   revoked_bit <MBEDTLS_X509_BADCERT_REVOKED, hex>
 *   info <mbedtls_x509_crt_verify_info, one line per flag>
 * Exit status: 0 when everything ran (whatever the verdict), 1 when the CRL did not parse,
 * 2 on bad arguments or unreadable files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>
#include <mbedtls/x509_crl.h>
#if defined(MBEDTLS_PSA_CRYPTO_C)
#include <psa/crypto.h>
#endif

static void print_ret(const char *key, int ret)
{
    if (ret < 0) {
        printf("%s -0x%04x\n", key, (unsigned int) -ret);
    } else {
        printf("%s %d\n", key, ret);
    }
}

/* Reads a whole file, plus a terminating NUL (mbedTLS wants it in the length for PEM). */
static unsigned char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return NULL;
    }
    long size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    unsigned char *buf = malloc((size_t) size + 1);
    if (buf == NULL || fread(buf, 1, (size_t) size, f) != (size_t) size) {
        free(buf);
        fclose(f);
        return NULL;
    }
    fclose(f);
    buf[size] = '\0';
    /* DER is passed with its exact length; PEM with the NUL counted. */
    *len = (size > 0 && buf[0] == 0x30) ? (size_t) size : (size_t) size + 1;
    return buf;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s <root.pem> <intermediate.pem> <leaf.pem> <crl>\n", argv[0]);
        return 2;
    }
#if defined(MBEDTLS_PSA_CRYPTO_C)
    if (psa_crypto_init() != PSA_SUCCESS) {
        fprintf(stderr, "psa_crypto_init failed\n");
        return 2;
    }
#endif
    printf("version %s\n", MBEDTLS_VERSION_STRING);

    mbedtls_x509_crt root, chain;
    mbedtls_x509_crl crl;
    mbedtls_x509_crt_init(&root);
    mbedtls_x509_crt_init(&chain);
    mbedtls_x509_crl_init(&crl);
    int status = 2;

    int ret = mbedtls_x509_crt_parse_file(&root, argv[1]);
    if (ret != 0) {
        print_ret("root_parse", ret);
        goto done;
    }
    /* The leaf first, then the intermediate: mbedTLS follows the chain in this order. */
    ret = mbedtls_x509_crt_parse_file(&chain, argv[3]);
    if (ret != 0) {
        print_ret("leaf_parse", ret);
        goto done;
    }
    ret = mbedtls_x509_crt_parse_file(&chain, argv[2]);
    if (ret != 0) {
        print_ret("intermediate_parse", ret);
        goto done;
    }

    size_t len = 0;
    unsigned char *buf = read_file(argv[4], &len);
    if (buf == NULL) {
        fprintf(stderr, "cannot read %s\n", argv[4]);
        goto done;
    }
    ret = mbedtls_x509_crl_parse(&crl, buf, len);
    free(buf);
    print_ret("crl_parse", ret);
    if (ret != 0) {
        status = 1;
        goto done;
    }

    uint32_t flags = 0;
    ret = mbedtls_x509_crt_verify(&chain, &root, &crl, NULL, &flags, NULL, NULL);
    print_ret("verify", ret);
    printf("flags 0x%08x\n", (unsigned int) flags);
    printf("revoked_bit 0x%08x\n", (unsigned int) MBEDTLS_X509_BADCERT_REVOKED);
    if (flags != 0) {
        char info[1024];
        if (mbedtls_x509_crt_verify_info(info, sizeof info, "info ", flags) > 0) {
            fputs(info, stdout);
        }
    }
    status = 0;

done:
    mbedtls_x509_crl_free(&crl);
    mbedtls_x509_crt_free(&chain);
    mbedtls_x509_crt_free(&root);
    fflush(stdout);
    return status;
}
