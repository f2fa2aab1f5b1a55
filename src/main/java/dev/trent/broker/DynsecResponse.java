package dev.trent.broker;

import tools.jackson.databind.JsonNode;

/**
 * One entry of a {@code $CONTROL/dynamic-security/v1/response} message: the command it answers,
 * its {@code error} (null when the command succeeded) and its {@code data} (missing node when none).
 */
record DynsecResponse(String command, String error, JsonNode data) {

    /** The error text Mosquitto 2.0 gives for getClient, deleteClient and others on an unknown username. */
    static final String CLIENT_NOT_FOUND = "Client not found";
    /** The error text of createClient for a username that exists. */
    static final String CLIENT_EXISTS = "Client already exists";

    boolean ok() {
        return error == null;
    }
}
