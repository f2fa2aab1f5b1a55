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

    /**
     * A logged-in provider for the token and the token's key store view, shared by everything
     * that uses the token until the next re-initialization.
     *
     * @param generation how many times the module had been re-initialized when it was opened
     */
    public record Session(Provider provider, KeyStore keyStore, long generation) {
    }

    /** The shared session, or null until the next {@link #open()}. */
    private Session session;
    private long generation;
    /** Signatures hold it shared; re-initializing the module holds it exclusively. */
    private final java.util.concurrent.locks.ReentrantReadWriteLock moduleLock =
            new java.util.concurrent.locks.ReentrantReadWriteLock();

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
        return containerUri() + ";object=" + pct(object);
    }

    /** The token alone, as in {@link #uri}: {@code pkcs11:token=LABEL} or {@code pkcs11:slot-index=N}. */
    public String containerUri() {
        return "pkcs11:" + (tokenLabel != null ? "token=" + pct(tokenLabel)
                : "slot-index=" + (slotIndex == null ? 0 : slotIndex));
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
     * The token's shared session: a provider instance for the token, logged in, opened on first
     * use and after every re-initialization (one provider per re-initialization, not per call).
     * Fails with one clear line naming the cause: module missing, no such token, wrong PIN.
     */
    public synchronized Session open() {
        if (session != null) {
            return session;
        }
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
        KeyStore ks;
        try {
            ks = KeyStore.getInstance("PKCS11", provider);
        } catch (GeneralSecurityException e) {
            throw new CaUnavailableException("cannot open " + describe() + ": " + cause(e), e);
        }
        login(ks);
        session = new Session(provider, ks, generation);
        return session;
    }

    /**
     * The shared session's key store, read again from the token (keys and certificates that the
     * CLI or keytool added since are seen).
     */
    public synchronized KeyStore freshKeyStore() {
        KeyStore ks = open().keyStore();
        login(ks);
        return ks;
    }

    private void login(KeyStore ks) {
        char[] secret = pin.get();
        try {
            ks.load(null, secret);
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

    /** A unit of work that talks to the module, such as one signature. */
    public interface ModuleCall<T> {
        T call() throws GeneralSecurityException;
    }

    /** Runs {@code work} while no re-initialization can happen (many may run at once). */
    public <T> T withModule(ModuleCall<T> work) throws GeneralSecurityException {
        moduleLock.readLock().lock();
        try {
            return work.call();
        } finally {
            moduleLock.readLock().unlock();
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
     * object handles that a fault made invalid, unless that already happened since the session
     * of {@code seenGeneration} was opened (then the caller just uses the new session). Waits for
     * signatures in progress to end first. Best effort: where the wrapper is not accessible it
     * only drops the shared session, so that the next {@link #open()} starts a new one.
     *
     * @return true when the module was (or had already been) re-initialized
     */
    public synchronized boolean reinitialize(long seenGeneration) {
        if (seenGeneration != generation) {
            return true;
        }
        moduleLock.writeLock().lock();
        try {
            session = null;
            generation++;
            Object module = module();
            Object args = initArgs();
            try {
                wrapperMethod("C_Finalize", Object.class).invoke(module, (Object) null);
            } catch (InvocationTargetException e) {
                log.debug("C_Finalize of {} failed: {}", library, e.getCause().toString());
            }
            wrapperMethod("C_Initialize", Object.class).invoke(module, args);
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.warn("PKCS#11 module {} cannot be re-initialized ({}); reconnecting with new sessions only", library,
                    e instanceof InvocationTargetException ite ? cause(ite.getCause()) : e.toString());
            return false;
        } finally {
            moduleLock.writeLock().unlock();
        }
    }

    /** Re-initializes the module now (tests, and a CLI that wants a fresh start). */
    public synchronized boolean reinitialize() {
        return reinitialize(generation);
    }

    /** The generation of the current session: bumped by every re-initialization. */
    public synchronized long generation() {
        return generation;
    }

    /**
     * C_Initialize arguments that let the module use the operating system's locks
     * (CKF_OS_LOCKING_OK), as SunPKCS11 itself initializes it; without them a module such as
     * SoftHSM2 assumes a single thread.
     */
    private static Object initArgs() throws ReflectiveOperationException {
        Class<?> type = Class.forName("sun.security.pkcs11.wrapper.CK_C_INITIALIZE_ARGS");
        Object args = type.getConstructor().newInstance();
        type.getField("flags").setLong(args, 0x00000002L); // CKF_OS_LOCKING_OK
        return args;
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
            return getInstance.invoke(null, library.toAbsolutePath().toString(), "C_GetFunctionList", initArgs(),
                    false);
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
