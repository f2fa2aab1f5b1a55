package dev.trent.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.trent.profile.CertificateProfile;
import dev.trent.profile.Profiles;

@Configuration(proxyBeanMethods = false)
class ProfilesConfiguration {

    @Bean
    Profiles profiles(TrentProperties properties) {
        if (properties.profiles().isEmpty()) {
            throw new IllegalStateException("no certificate profiles are configured (trent.profiles)");
        }
        List<CertificateProfile> list = new ArrayList<>();
        for (Map.Entry<String, TrentProperties.Profile> e : properties.profiles().entrySet()) {
            TrentProperties.Profile p = e.getValue();
            if (p.validity().compareTo(properties.issuance().backdate()) <= 0) {
                throw new IllegalStateException("profile " + e.getKey() + ": validity " + p.validity()
                        + " must be longer than trent.issuance.backdate");
            }
            list.add(new CertificateProfile(e.getKey(), p.validity(), p.keyTypes(), p.rsaMinBits(), p.keyUsage(),
                    p.extendedKeyUsage(), p.dnsNamesAllowed(), p.dnsNamesRequired(), p.maxDnsNames(), p.ocspUrl(), p.caIssuersUrl(),
                    p.maxDerBytes()));
        }
        return new Profiles(list);
    }
}
