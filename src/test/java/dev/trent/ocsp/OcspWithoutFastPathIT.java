package dev.trent.ocsp;

import org.springframework.test.context.TestPropertySource;

/** The same OCSP tests with the fast path off: requests go through Spring Security and MVC. */
@TestPropertySource(properties = "trent.ocsp.fast-path=false")
class OcspWithoutFastPathIT extends OcspIT {
}
