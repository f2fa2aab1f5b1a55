#!/usr/bin/env bash
# Entrypoint of Trent's softhsm image (Dockerfile target softhsm, docker compose profile hsm).
#
#   trent-hsm-entrypoint COMMAND...     COMMAND runs Trent (the image's CMD: java ... -jar trent.jar)
#
# On first start it initialises a SoftHSM2 token labelled $TRENT_CA_PKCS11_TOKEN_LABEL and has
# Trent's key ceremony (COMMAND ca init) make the CA in it: the intermediate key is generated
# inside the token (sensitive, not extractable) and stored there with its chain; the root, used
# once to sign the intermediate, is written to $TRENT_DATA_DIR/hsm-root (move root.p12 offline).
# Later starts find the token and the key and change nothing. Then it runs COMMAND.
#
# Environment (docs/deployment.md, "Deployment (docker compose)"): SOFTHSM2_CONF, TRENT_DATA_DIR,
# TRENT_CA_PKCS11_LIBRARY, TRENT_CA_PKCS11_TOKEN_LABEL, TRENT_CA_PKCS11_KEY_LABEL,
# TRENT_CA_PKCS11_PIN_FILE (or TRENT_CA_PKCS11_PIN), and on first start TRENT_HSM_SO_PIN_FILE (or
# TRENT_HSM_SO_PIN), TRENT_CA_KEY_ALGORITHM (EC_P256), TRENT_CA_ORGANIZATION (Trent).
set -euo pipefail

die() {
  echo "trent-hsm-entrypoint: $*" >&2
  exit 1
}

say() {
  echo "trent-hsm-entrypoint: $*"
}

# A secret: the first line (trimmed) of the file named by the variable $1, else the value of the
# variable $2. Never printed.
secret() {
  local file_var=$1 env_var=$2
  if [ -n "${!file_var:-}" ]; then
    [ -r "${!file_var}" ] || die "cannot read $file_var (${!file_var})"
    sed -n '1{s/^[[:space:]]*//;s/[[:space:]]*$//;p;q}' -- "${!file_var}"
  elif [ -n "${!env_var:-}" ]; then
    printf '%s' "${!env_var}"
  else
    die "set $file_var (a file holding the secret) or $env_var"
  fi
}

# True when SoftHSM2 has a token with exactly this label.
token_present() {
  softhsm2-util --show-slots \
    | sed -n 's/^[[:space:]]*Label:[[:space:]]*//p' | sed 's/[[:space:]]*$//' \
    | grep -Fx -- "$TRENT_CA_PKCS11_TOKEN_LABEL" >/dev/null
}

# Initialises the first free slot as the token. softhsm2-util takes the PINs only as arguments
# (it reads them from a terminal otherwise); this runs once, inside the container.
init_token() {
  local so_pin pin
  so_pin=$(secret TRENT_HSM_SO_PIN_FILE TRENT_HSM_SO_PIN)
  pin=$(secret TRENT_CA_PKCS11_PIN_FILE TRENT_CA_PKCS11_PIN)
  [ -n "$so_pin" ] && [ -n "$pin" ] || die "the token's PIN and SO PIN must not be empty"
  softhsm2-util --init-token --free --label "$TRENT_CA_PKCS11_TOKEN_LABEL" --so-pin "$so_pin" --pin "$pin"
}

# The token options of Trent's `ca` commands. Without a PIN file the CLI reads TRENT_CA_PKCS11_PIN.
token_options() {
  TOKEN_OPTIONS=(--pkcs11-library "$TRENT_CA_PKCS11_LIBRARY" --token-label "$TRENT_CA_PKCS11_TOKEN_LABEL"
    --key-label "$TRENT_CA_PKCS11_KEY_LABEL")
  if [ -n "${TRENT_CA_PKCS11_PIN_FILE:-}" ]; then
    TOKEN_OPTIONS+=(--pin-file "$TRENT_CA_PKCS11_PIN_FILE")
  fi
}

# True when the token holds the CA key (with `ca list`, which logs in: a wrong PIN stops here).
key_present() {
  local listing
  listing=$("$@" ca list "${TOKEN_OPTIONS[@]}") || die "cannot read token '$TRENT_CA_PKCS11_TOKEN_LABEL' (above)"
  grep -F -- "'$TRENT_CA_PKCS11_KEY_LABEL' (key)" >/dev/null <<<"$listing"
}

# Stops when a CA was made before: its key must be in the token, not made again.
refuse_second_ca() {
  if [ -e "$ROOT_DIR/root.p12" ] || [ -e "$ROOT_DIR/root.pem" ]; then
    die "no key '$TRENT_CA_PKCS11_KEY_LABEL' in a token '$TRENT_CA_PKCS11_TOKEN_LABEL' but $ROOT_DIR exists:" \
      "the token volume was lost or replaced, or the token or key label changed. Restore the token volume;" \
      "or, to make a new CA, move $ROOT_DIR away (devices that trust the old root will not trust the new one)"
  fi
}

# Makes the CA: root in $ROOT_DIR, intermediate key and chain in the token.
init_ca() {
  refuse_second_ca
  "$@" ca init "${TOKEN_OPTIONS[@]}" --out "$ROOT_DIR" \
    --key-algorithm "${TRENT_CA_KEY_ALGORITHM:-EC_P256}" --organization "${TRENT_CA_ORGANIZATION:-Trent}"
}

main() {
  [ $# -gt 0 ] || die "usage: trent-hsm-entrypoint COMMAND... (the command that runs Trent)"
  [ -n "${SOFTHSM2_CONF:-}" ] || die "SOFTHSM2_CONF is not set"
  [ -r "$SOFTHSM2_CONF" ] || die "cannot read SOFTHSM2_CONF ($SOFTHSM2_CONF)"
  [ -n "${TRENT_DATA_DIR:-}" ] || die "TRENT_DATA_DIR is not set"
  [ -n "${TRENT_CA_PKCS11_LIBRARY:-}" ] || die "TRENT_CA_PKCS11_LIBRARY is not set"
  [ -e "$TRENT_CA_PKCS11_LIBRARY" ] || die "no PKCS#11 module at $TRENT_CA_PKCS11_LIBRARY"
  [ -n "${TRENT_CA_PKCS11_TOKEN_LABEL:-}" ] || die "TRENT_CA_PKCS11_TOKEN_LABEL is not set"
  : "${TRENT_CA_PKCS11_KEY_LABEL:=trent-ca}"

  ROOT_DIR=$TRENT_DATA_DIR/hsm-root

  if ! token_present; then
    refuse_second_ca
    say "no token '$TRENT_CA_PKCS11_TOKEN_LABEL' yet: initialising one"
    init_token
  fi
  token_options
  if ! key_present "$@"; then
    say "token '$TRENT_CA_PKCS11_TOKEN_LABEL' has no key '$TRENT_CA_PKCS11_KEY_LABEL' yet: making the CA"
    init_ca "$@"
  fi
  exec "$@"
}

main "$@"
