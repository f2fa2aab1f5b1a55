package dev.trent.profile;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** The configured certificate profiles by name. */
public final class Profiles {

    private final Map<String, CertificateProfile> byName;

    public Profiles(Collection<CertificateProfile> profiles) {
        Map<String, CertificateProfile> map = new LinkedHashMap<>();
        for (CertificateProfile p : profiles) {
            if (map.put(p.name(), p) != null) {
                throw new IllegalArgumentException("duplicate profile " + p.name());
            }
        }
        this.byName = Map.copyOf(map);
    }

    public Optional<CertificateProfile> get(String name) {
        return Optional.ofNullable(name == null ? null : byName.get(name));
    }

    public Collection<String> names() {
        return byName.keySet().stream().sorted().toList();
    }
}
