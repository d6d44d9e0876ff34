package org.p2psip.sip.registrar;

import java.util.List;

/** Told by the {@link Registrar} after it answered 200 to a REGISTER that added or refreshed bindings here. */
@FunctionalInterface
public interface RegistrationListener {
    RegistrationListener NONE = (aor, bindings) -> { };

    /** {@code bindings}: this REGISTER's live bindings (expires > 0), in the order of its Contacts. */
    void registered(String aor, List<ContactBinding> bindings);
}
