package dev.trent.broker;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.trent.config.TrentProperties;
import tools.jackson.databind.JsonNode;

/**
 * Makes one device's dynsec client match what the inventory says, idempotently, checking every
 * answer.
 *
 * <p><b>Which clients are Trent's.</b> A client is managed by Trent when it carries Trent's
 * text name marker ({@value #MARKER}, set on every client Trent creates), holds the device role
 * directly, or is in the device group (when one is configured). Trent creates, repairs and
 * deletes only those; the admin user Trent logs in as is never touched, whatever it holds; and
 * the operator's other clients (without the marker, the role and the group) are left alone, even
 * when their name equals a device id that has no valid certificate. So the device role and group
 * are Trent's to give: give other clients other roles.
 *
 * <p><b>Access removed</b> = the client deleted: Mosquitto 2.0.11 then disconnects every session
 * with that username at once, and its reconnects (TLS still succeeds) get SUBACK 128 and their
 * publishes are dropped. {@code disableClient} is not used: it drops the session, but the device
 * reconnects with full access when the username comes from the certificate (measured).
 * <b>Access given</b> = {@code createClient} without a password (the listener authenticates by
 * certificate, {@code use_identity_as_username}; a client without a password cannot log in on a
 * password listener) with the role (and group), or the role, group and enabled flag repaired on
 * an existing client.
 */
final class DeviceClients {

    static final String MARKER = "managed by Trent";

    private final DynsecConnection broker;
    private final TrentProperties.Mosquitto settings;

    DeviceClients(DynsecConnection broker, TrentProperties.Mosquitto settings) {
        this.broker = broker;
        this.settings = settings;
    }

    /** What the broker said about a client (listClients or getClient, verbose). */
    record BrokerClient(String username, String textname, boolean disabled, List<String> roles, List<String> groups) {

        static BrokerClient of(JsonNode c) {
            List<String> roles = new ArrayList<>();
            c.path("roles").forEach(r -> roles.add(r.path("rolename").asString("")));
            List<String> groups = new ArrayList<>();
            c.path("groups").forEach(g -> groups.add(g.path("groupname").asString("")));
            return new BrokerClient(c.path("username").asString(""), c.path("textname").asString(null),
                    c.path("disabled").asBoolean(false), roles, groups);
        }
    }

    boolean isAdmin(String username) {
        return settings.username().equals(username);
    }

    /** Trent's client: the marker, the device role held directly, or the device group; never the admin. */
    boolean managed(BrokerClient c) {
        if (isAdmin(c.username())) {
            return false;
        }
        return MARKER.equals(c.textname()) || c.roles().contains(settings.deviceRole())
                || (settings.deviceGroup() != null && !settings.deviceGroup().isBlank()
                        && c.groups().contains(settings.deviceGroup()));
    }

    /** The client has what a device with a valid certificate needs. */
    boolean complete(BrokerClient c) {
        return !c.disabled() && c.roles().contains(settings.deviceRole()) && (settings.deviceGroup() == null
                || settings.deviceGroup().isBlank() || c.groups().contains(settings.deviceGroup()));
    }

    private Map<String, Object> createCommand(String deviceId) {
        Map<String, Object> create = new LinkedHashMap<>();
        create.put("command", "createClient");
        create.put("username", deviceId);
        create.put("textname", MARKER);
        create.put("roles", List.of(Map.of("rolename", settings.deviceRole())));
        if (hasGroup()) {
            create.put("groups", List.of(Map.of("groupname", settings.deviceGroup())));
        }
        return create;
    }

    /**
     * Gives every device access: one message of createClient commands, then a repair of each
     * client that already existed. Returns the devices that failed, with the reason.
     *
     * @throws DynsecException when the broker could not be asked at all (all failed)
     */
    Map<String, String> ensureAllPresent(List<String> deviceIds) throws DynsecException {
        Map<String, String> failed = new LinkedHashMap<>();
        List<String> devices = deviceIds.stream().filter(d -> !isAdmin(d)).toList();
        if (devices.isEmpty()) {
            return failed;
        }
        List<DynsecResponse> answers = broker.execute(devices.stream().map(this::createCommand).toList());
        List<String> existing = new ArrayList<>();
        for (int i = 0; i < devices.size(); i++) {
            DynsecResponse r = answers.get(i);
            if (DynsecResponse.CLIENT_EXISTS.equals(r.error())) {
                existing.add(devices.get(i));
            } else if (!r.ok()) {
                failed.put(devices.get(i), "createClient " + devices.get(i) + ": " + r.error());
            }
        }
        if (existing.isEmpty()) {
            return failed;
        }
        // Clients that existed (made by hand, or by an earlier attempt whose answer was lost):
        // read them all, then send what each lacks.
        List<DynsecResponse> got = broker.execute(existing.stream()
                .map(d -> Map.<String, Object>of("command", "getClient", "username", d)).toList());
        List<Map<String, Object>> fixes = new ArrayList<>();
        List<String> fixFor = new ArrayList<>();
        for (int i = 0; i < existing.size(); i++) {
            String device = existing.get(i);
            DynsecResponse r = got.get(i);
            if (!r.ok()) {
                failed.put(device, "getClient " + device + ": " + r.error());
                continue;
            }
            BrokerClient client = BrokerClient.of(r.data().path("client"));
            if (!managed(client)) {
                // Someone else's client of that name (made by hand, with a password, roles of its
                // own): never adopted, changed or, later, deleted. The row stays failed, visible in
                // health, until the operator renames one of them.
                failed.put(device, "client '" + device + "' exists on the broker and is not Trent's (no text name '"
                        + MARKER + "', no device role or group); left alone");
                continue;
            }
            for (Map<String, Object> fix : fixes(client)) {
                fixes.add(fix);
                fixFor.add(device);
            }
        }
        List<DynsecResponse> fixed = broker.execute(fixes);
        for (int i = 0; i < fixed.size(); i++) {
            if (!fixed.get(i).ok()) {
                failed.put(fixFor.get(i), fixed.get(i).command() + " " + fixFor.get(i) + ": " + fixed.get(i).error());
            }
        }
        return failed;
    }

    /** What an existing client of a device with a valid certificate lacks: the role, the group, being enabled. */
    private List<Map<String, Object>> fixes(BrokerClient c) {
        List<Map<String, Object>> fixes = new ArrayList<>();
        if (!c.roles().contains(settings.deviceRole())) {
            // addClientRole for a role the client holds answers "Internal error" in 2.0.11: only when missing.
            fixes.add(Map.of("command", "addClientRole", "username", c.username(), "rolename", settings.deviceRole()));
        }
        if (hasGroup() && !c.groups().contains(settings.deviceGroup())) {
            fixes.add(Map.of("command", "addGroupClient", "groupname", settings.deviceGroup(), "username", c.username()));
        }
        if (c.disabled()) {
            fixes.add(Map.of("command", "enableClient", "username", c.username()));
        }
        return fixes;
    }

    /**
     * Removes every device's access: one message of getClient commands, then one of deleteClient
     * for the clients that are Trent's. Returns the devices that failed, with the reason.
     *
     * @throws DynsecException when the broker could not be asked at all (all failed)
     */
    Map<String, String> ensureAllAbsent(List<String> deviceIds) throws DynsecException {
        Map<String, String> failed = new LinkedHashMap<>();
        List<String> devices = deviceIds.stream().filter(d -> !isAdmin(d)).toList();
        if (devices.isEmpty()) {
            return failed;
        }
        List<DynsecResponse> got = broker.execute(devices.stream()
                .map(d -> Map.<String, Object>of("command", "getClient", "username", d)).toList());
        List<String> delete = new ArrayList<>();
        for (int i = 0; i < devices.size(); i++) {
            DynsecResponse r = got.get(i);
            if (DynsecResponse.CLIENT_NOT_FOUND.equals(r.error())) {
                continue;
            }
            if (!r.ok()) {
                failed.put(devices.get(i), "getClient " + devices.get(i) + ": " + r.error());
            } else if (managed(BrokerClient.of(r.data().path("client")))) {
                delete.add(devices.get(i));
            }
        }
        if (!delete.isEmpty()) {
            List<DynsecResponse> deleted = broker.execute(delete.stream()
                    .map(d -> Map.<String, Object>of("command", "deleteClient", "username", d)).toList());
            for (int i = 0; i < delete.size(); i++) {
                DynsecResponse r = deleted.get(i);
                if (!r.ok() && !DynsecResponse.CLIENT_NOT_FOUND.equals(r.error())) {
                    failed.put(delete.get(i), "deleteClient " + delete.get(i) + ": " + r.error());
                }
            }
        }
        return failed;
    }


    /** The client, or null when the broker has none by that name. */
    BrokerClient get(String username) throws DynsecException {
        DynsecResponse r = broker.execute(Map.of("command", "getClient", "username", username));
        if (DynsecResponse.CLIENT_NOT_FOUND.equals(r.error())) {
            return null;
        }
        if (!r.ok()) {
            throw new DynsecException("getClient " + username + ": " + r.error());
        }
        return BrokerClient.of(r.data().path("client"));
    }

    /** Every client on the broker, page by page. */
    List<BrokerClient> list() throws DynsecException {
        List<BrokerClient> out = new ArrayList<>();
        int page = 1000;
        for (int offset = 0;; offset += page) {
            DynsecResponse r = broker.execute(Map.of("command", "listClients", "verbose", true, "count", page, "offset", offset));
            if (!r.ok()) {
                throw new DynsecException("listClients: " + r.error());
            }
            JsonNode clients = r.data().path("clients");
            clients.forEach(c -> out.add(BrokerClient.of(c)));
            long total = r.data().path("totalCount").asLong(0);
            if (clients.isEmpty() || offset + clients.size() >= total) {
                return out;
            }
        }
    }

    private boolean hasGroup() {
        return settings.deviceGroup() != null && !settings.deviceGroup().isBlank();
    }
}
