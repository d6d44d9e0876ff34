package org.p2psip.sip.registrar;

import java.util.List;

/** Told by the {@link Registrar} after it answered 200 to a REGISTER that added or refreshed bindings here. */
@FunctionalInterface
public interface RegistrationListener {
    RegistrationListener NONE = (aor, bindings, newHere) -> { };

    /**
     * @param bindings this REGISTER's live bindings (expires > 0), in the order of its Contacts
     * @param newHere  whether at least one of them was not a live binding of {@code aor} registered at this peer before
     *                 this REGISTER (a first REGISTER, after expiry, {@code Expires: 0} or a restart, or a binding
     *                 through an edge proxy's Path, which the registrar does not track); false: each only refreshed
     */
    void registered(String aor, List<ContactBinding> bindings, boolean newHere);
}
