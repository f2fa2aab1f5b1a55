package dev.trent.ca;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.Provider;
import java.security.ProviderException;
import java.security.Security;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One PKCS#11 token reached through the JDK's SunPKCS11 provider: which module, which slot, and
 * the PIN. {@link #open()} configures a provider instance for it and logs in; after a fault,
 * {@link #reinitialize()} finalizes and initializes the module again (what a reconnect to a
 * network HSM or a re-inserted token needs), so that the next {@code open()} starts afresh.
 *
 * <p>Two things SunPKCS11 does not offer publicly are taken from its PKCS#11 wrapper
 * ({@code sun.security.pkcs11.wrapper}, opened to Trent by the jar's manifest and by the test
 * JVMs' options): the token labels of the slots (to choose a token by label) and
 * C_Finalize/C_Initialize. Without that access a token is chosen by slot index only and a
 * reconnect opens new sessions without re-initializing the module.
 */
public final class Pkcs11Token {

    private static final Logger log = LoggerFactory.getLogger(Pkcs11Token.class);
    private static final AtomicInteger INSTANCES = new AtomicInteger();

    /**
     * Keys generated through a provider of this class are token objects that never leave it:
     * private, sensitive, never extractable, for signing only.
     */
    private static final String KEY_ATTRIBUTES = """
            attributes(generate, CKO_PRIVATE_KEY, *) = {
              CKA_TOKEN = true
              CKA_PRIVATE = true
              CKA_SENSITIVE = true
              CKA_EXTRACTABLE = false
              CKA_SIGN = true
              CKA_DECRYPT = false
              CKA_UNWRAP = false
              CKA_DERIVE = false
            }
            attributes(generate, CKO_PUBLIC_KEY, *) = {
              CKA_TOKEN = true
              CKA_VERIFY = true
              CKA_ENCRYPT = false
              CKA_WRAP = false
            }
            """;

    private final Path library;
    private final Integer slotIndex;
    private final String tokenLabel;
    private final java.util.function.Supplier<char[]> pin;

    /** A logged-in provider for the token and the token's key store view. */
    public record Session(Provider provider, KeyStore keyStore) {
    }

    /**
     * @param slotIndex  position among the slots with a token (used when tokenLabel is null; 0 if both are)
     * @param tokenLabel the token's label, or null
     * @param pin        gives the user PIN on every login (a fresh array, wiped after use), so that
     *                   a PIN file corrected while Trent runs is read at the next reconnect
     */
    public Pkcs11Token(Path library, Integer slotIndex, String tokenLabel, java.util.function.Supplier<char[]> pin) {
        if (library == null) {
            throw new CaUnavailableException("the PKCS#11 module is not set (trent.ca.pkcs11.library, "
                    + "TRENT_CA_PKCS11_LIBRARY)", null);
        }
        this.library = library;
        this.slotIndex = slotIndex;
        this.tokenLabel = tokenLabel == null || tokenLabel.isBlank() ? null : tokenLabel;
        this.pin = pin;
    }

    /** Reads the PIN at every login from the file, else from the environment variable's value. */
    public static java.util.function.Supplier<char[]> pinSource(Path pinFile, String pinFromEnvironment) {
        readPin(pinFile, pinFromEnvironment); // fails now, at start, when there is none
        return () -> readPin(pinFile, pinFromEnvironment);
    }

    /** The PIN from a file (first line, trimmed) or from the environment variable's value. */
    public static char[] readPin(Path pinFile, String pinFromEnvironment) {
        if (pinFile != null) {
            try {
                return Files.readString(pinFile, StandardCharsets.UTF_8).strip().toCharArray();
            } catch (IOException e) {
                throw new CaUnavailableException("cannot read the PKCS#11 PIN file " + pinFile + ": " + e, e);
            }
        }
        if (pinFromEnvironment != null && !pinFromEnvironment.isEmpty()) {
            return pinFromEnvironment.toCharArray();
        }
        throw new CaUnavailableException("no PKCS#11 PIN: set trent.ca.pkcs11.pin-file or the environment variable "
                + "TRENT_CA_PKCS11_PIN", null);
    }

    /**
     * A reference to an object in this token in the form of a PKCS#11 URI (RFC 7512):
     * {@code pkcs11:token=LABEL;object=LABEL}, or {@code pkcs11:slot-index=N;object=LABEL} when the
     * token is chosen by position (slot-index is Trent's, not RFC 7512's).
     */
    public String uri(String object) {
        String where = tokenLabel != null ? "token=" + pct(tokenLabel) : "slot-index=" + (slotIndex == null ? 0 : slotIndex);
        return "pkcs11:" + where + ";object=" + pct(object);
    }

    private static String pct(String s) {
        StringBuilder b = new StringBuilder();
        for (byte c : s.getBytes(StandardCharsets.UTF_8)) {
            if (Character.isLetterOrDigit(c) && c > 0 || "-._~".indexOf(c) >= 0) {
                b.append((char) c);
            } else {
                b.append('%').append(String.format("%02X", c & 0xff));
            }
        }
        return b.toString();
    }

    /** What this token is, for messages: never the PIN. */
    public String describe() {
        return (tokenLabel != null ? "token '" + tokenLabel + "'" : "slot index " + (slotIndex == null ? 0 : slotIndex))
                + " of " + library;
    }

    /**
     * A new provider instance for the token, logged in. Fails with one clear line naming the
     * cause: module missing, no such token, wrong PIN.
     */
    public synchronized Session open() {
        if (!Files.isReadable(library)) {
            throw new CaUnavailableException("PKCS#11 module " + library + " does not exist or cannot be read", null);
        }
        String slot = tokenLabel != null ? "slot = " + slotOf(tokenLabel) : "slotListIndex = " + (slotIndex == null
                ? 0 : slotIndex);
        String config = "--name = Trent-" + INSTANCES.incrementAndGet() + "\n"
                + "library = \"" + library.toAbsolutePath().toString().replace("\"", "") + "\"\n"
                + slot + "\n" + KEY_ATTRIBUTES;
        Provider provider;
        try {
            provider = Security.getProvider("SunPKCS11").configure(config);
        } catch (ProviderException | IllegalArgumentException e) {
            throw new CaUnavailableException("cannot open " + describe() + ": " + cause(e), e);
        }
        char[] secret = pin.get();
        try {
            KeyStore ks = KeyStore.getInstance("PKCS11", provider);
            ks.load(null, secret);
            return new Session(provider, ks);
        } catch (IOException | GeneralSecurityException | ProviderException e) {
            String why = cause(e);
            if (why.contains("CKR_PIN_INCORRECT") || why.contains("CKR_PIN_LEN_RANGE")) {
                why = "the PIN is wrong (" + why + ")";
            } else if (why.contains("CKR_PIN_LOCKED")) {
                why = "the PIN is locked (" + why + ")";
            }
            throw new CaUnavailableException("cannot log in to " + describe() + ": " + why, e);
        } finally {
            Arrays.fill(secret, '\0');
        }
    }

    /** The aliases (CKA_LABEL of key and certificate) of the private keys the token holds. */
    public static List<String> keyAliases(KeyStore keyStore) throws GeneralSecurityException {
        List<String> out = new ArrayList<>();
        for (String alias : Collections.list(keyStore.aliases())) {
            if (keyStore.isKeyEntry(alias)) {
                out.add(alias);
            }
        }
        Collections.sort(out);
        return out;
    }

    /**
     * Finalizes and initializes the module again, so that it reconnects and forgets sessions and
     * object handles that a fault made invalid. Best effort: logs and returns false where the
     * wrapper is not accessible.
     */
    public synchronized boolean reinitialize() {
        try {
            Object module = module();
            try {
                wrapperMethod("C_Finalize", Object.class).invoke(module, (Object) null);
            } catch (InvocationTargetException e) {
                log.debug("C_Finalize of {} failed: {}", library, e.getCause().toString());
            }
            Method init = wrapperMethod("C_Initialize", Object.class);
            init.invoke(module, (Object) null);
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.warn("PKCS#11 module {} cannot be re-initialized ({}); reconnecting with new sessions only", library,
                    e instanceof InvocationTargetException ite ? cause(ite.getCause()) : e.toString());
            return false;
        }
    }

    /** The slot id of the token with this label, by asking the module for its slots' token labels. */
    private long slotOf(String label) {
        List<String> seen = new ArrayList<>();
        try {
            Object module = module();
            long[] slots = (long[]) wrapperMethod("C_GetSlotList", boolean.class).invoke(module, true);
            Method tokenInfo = wrapperMethod("C_GetTokenInfo", long.class);
            for (long slot : slots) {
                Object info = tokenInfo.invoke(module, slot);
                char[] raw = (char[]) info.getClass().getField("label").get(info);
                String name = new String(raw).strip();
                if (name.equals(label)) {
                    return slot;
                }
                seen.add("'" + name + "'");
            }
        } catch (InvocationTargetException e) {
            throw new CaUnavailableException("cannot list the tokens of " + library + ": " + cause(e.getCause()), e);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new CaUnavailableException("choosing a token by label needs access to SunPKCS11's wrapper (run the "
                    + "jar with java -jar, or add --add-exports jdk.crypto.cryptoki/sun.security.pkcs11.wrapper="
                    + "ALL-UNNAMED); or set trent.ca.pkcs11.slot-index instead: " + e, e);
        }
        throw new CaUnavailableException("no token labelled '" + label + "' in " + library + " (tokens present: "
                + (seen.isEmpty() ? "none" : String.join(", ", seen)) + ")", null);
    }

    /** The JDK's wrapper object for the module (one per module path, shared with SunPKCS11). */
    private Object module() throws ReflectiveOperationException {
        Class<?> wrapper = Class.forName("sun.security.pkcs11.wrapper.PKCS11");
        Class<?> initArgs = Class.forName("sun.security.pkcs11.wrapper.CK_C_INITIALIZE_ARGS");
        Method getInstance = wrapper.getMethod("getInstance", String.class, String.class, initArgs, boolean.class);
        try {
            return getInstance.invoke(null, library.toAbsolutePath().toString(), "C_GetFunctionList", null, false);
        } catch (InvocationTargetException e) {
            throw new CaUnavailableException("cannot load PKCS#11 module " + library + ": " + cause(e.getCause()), e);
        }
    }

    private static Method wrapperMethod(String name, Class<?>... types) throws ReflectiveOperationException {
        Method m = Class.forName("sun.security.pkcs11.wrapper.PKCS11").getDeclaredMethod(name, types);
        m.setAccessible(true);
        return m;
    }

    /** The innermost message of a cause chain, which for PKCS#11 faults names the CKR_ code. */
    public static String cause(Throwable e) {
        Throwable t = e;
        String best = String.valueOf(e);
        while (t != null) {
            if (t.getMessage() != null) {
                best = t.getClass().getSimpleName() + ": " + t.getMessage();
            }
            t = t.getCause() == t ? null : t.getCause();
        }
        return best;
    }
}
