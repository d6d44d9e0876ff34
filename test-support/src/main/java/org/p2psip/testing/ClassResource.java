package org.p2psip.testing;

import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A resource the tests of one class share, such as a kernel-NAT lab: before the first test its prerequisites are
 * checked ({@link Prerequisites#require}: a failure under {@code CI=true}, a skip elsewhere) and it is made; after
 * the last test it is closed. Register it on a static field:
 * <pre>
 * &#64;RegisterExtension
 * static final ClassResource&lt;NatLab&gt; LAB = ClassResource.of(NatLab::prerequisiteProblems, NatLab::create);
 * </pre>
 *
 * @param <T> the resource
 */
public final class ClassResource<T extends AutoCloseable> implements BeforeAllCallback, AfterAllCallback {
    private final Supplier<List<String>> problems;
    private final Supplier<T> factory;
    private T value;

    private ClassResource(Supplier<List<String>> problems, Supplier<T> factory) {
        this.problems = problems;
        this.factory = factory;
    }

    /**
     * @param problems what is missing for the resource (empty when nothing is)
     * @param factory  makes the resource once the prerequisites hold
     */
    public static <T extends AutoCloseable> ClassResource<T> of(Supplier<List<String>> problems, Supplier<T> factory) {
        return new ClassResource<>(problems, factory);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        Prerequisites.require(problems.get());
        value = factory.get();
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        T v = value;
        value = null;
        if (v != null) {
            v.close();
        }
    }

    /** The resource, while the class's tests run. */
    public T get() {
        T v = value;
        if (v == null) {
            throw new IllegalStateException("the resource exists only while its test class runs");
        }
        return v;
    }
}
