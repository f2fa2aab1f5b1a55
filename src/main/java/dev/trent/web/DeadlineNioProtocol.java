package dev.trent.web;

import java.util.Set;

import org.apache.coyote.http11.Http11NioProtocol;
import org.apache.tomcat.util.net.NioChannel;
import org.apache.tomcat.util.net.SocketWrapperBase;

/**
 * Tomcat's NIO HTTP/1.1 protocol, with its open connections visible to {@link RequestDeadlines}
 * (Tomcat keeps them behind a protected accessor).
 */
public class DeadlineNioProtocol extends Http11NioProtocol {

    Set<SocketWrapperBase<NioChannel>> connections() {
        return getEndpoint().getConnections();
    }
}
