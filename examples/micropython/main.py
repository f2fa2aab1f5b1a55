# First boot of a MicroPython board (ESP32 and friends, MicroPython 1.23+ for ssl.SSLContext)
# with Trent: get an identity once, store it as DER files, then use it for mutual TLS.
#
# Provisioned on the board's flash before it ships:
#   ca.der     Trent's root:  curl -H 'Accept: application/pkix-cert' -o ca.der http://trent:8080/api/v1/ca/root
#   trent.json {"url": "trent.example:8443", "token": "trent_et_...", "mtls": ["broker.example", 8883]}
# After the first boot the board holds key.der (PKCS#8), cert.der and ca.der, and the token is used up.
#
# MicroPython cannot generate EC keys, so the board asks Trent to (POST /api/v1/enroll/keygen):
# the key travels once, over TLS, and Trent never stores it. A board with a secure element
# (ATECC608 etc.) should make its key there instead and POST a CSR to /api/v1/enroll with
# 'Accept: application/pkix-cert'; the rest of this script stays the same.
import binascii
import json
import os
import socket
import ssl
import sys


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def pem_to_der(pem):
    # The base64 between the first BEGIN and END lines.
    lines = pem.strip().split("\n")
    end = [i for i, l in enumerate(lines) if l.startswith("-----END")][0]
    return binascii.a2b_base64("".join(lines[1:end]))


def tls_context(with_identity):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cadata=read("ca.der"))  # trust Trent's root only
    if with_identity:
        if sys.implementation.name == "micropython":
            ctx.load_cert_chain(read("cert.der"), read("key.der"))  # mbedTLS takes DER bytes
        else:  # CPython (CI runs this script there) loads PEM files only
            for der, label, name in ((read("cert.der"), "CERTIFICATE", "cert.pem"),
                                     (read("key.der"), "PRIVATE KEY", "key.pem")):
                b64 = binascii.b2a_base64(der, newline=False).decode()
                body = "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64))
                write(name, ("-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, body, label)).encode())
            ctx.load_cert_chain("cert.pem", "key.pem")
    return ctx


def connect(host, port, ctx):
    family, kind, proto, _, address = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]
    s = socket.socket(family, kind, proto)
    s.connect(address)
    return ctx.wrap_socket(s, server_hostname=host)  # verifies the server's name too


def https(url, method, path, headers):
    # A minimal HTTP/1.0 client: one request, the server closes, no chunked encoding.
    host, port = url.split(":")
    s = connect(host, int(port), tls_context(False))
    request = "%s %s HTTP/1.0\r\nHost: %s\r\nContent-Length: 0\r\n" % (method, path, host)
    for name, value in headers.items():
        request += "%s: %s\r\n" % (name, value)
    s.write((request + "\r\n").encode())
    data = b""
    while True:
        try:
            chunk = s.read(1024)
        except OSError:  # some ports report the peer's close as an error
            break
        if not chunk:
            break
        data += chunk
    s.close()
    split = data.find(b"\r\n\r\n")
    return int(data.split(b" ")[1]), data[split + 4:]


def enroll(config):
    status, body = https(config["url"], "POST", "/api/v1/enroll/keygen",
                         {"Authorization": "Bearer " + config["token"], "Accept": "application/json"})
    if status != 201:  # problem+json says what was wrong (used or expired token, ...)
        raise RuntimeError("enrollment failed: %d %s" % (status, body))
    issued = json.loads(body)
    write("key.der", pem_to_der(issued["privateKey"]))  # PKCS#8; never leaves the board again
    write("cert.der", pem_to_der(issued["certificate"]))
    print("enrolled as", issued["deviceId"], "serial", issued["serial"])


def main():
    config = json.loads(read("trent.json"))
    if not exists("cert.der"):  # first boot only: the token works once
        enroll(config)
    # Mutual TLS with the new identity, e.g. to an MQTT broker that trusts Trent's chain
    # (the board presents its leaf; the broker knows the intermediate and the root).
    host, port = config["mtls"]
    s = connect(host, port, tls_context(True))
    s.write(b"hello from a Trent device\n")  # an MQTT client sends CONNECT here
    print("mutual TLS to %s:%d ok, peer said %r" % (host, port, s.read(64)))  # ... and reads CONNACK
    s.close()


main()
