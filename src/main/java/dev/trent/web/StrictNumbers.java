package dev.trent.web;

import java.beans.PropertyEditorSupport;
import java.util.regex.Pattern;

import org.springframework.beans.PropertyEditorRegistrar;
import org.springframework.beans.PropertyEditorRegistry;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.bind.support.ConfigurableWebBindingInitializer;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerAdapter;

/**
 * Numbers in paths and query strings parse strictly: optional minus and decimal digits only.
 * Spring's default would read {@code +1}, {@code " 1"} and {@code 0x01} all as 1, so
 * {@code DELETE /api/v1/api-keys/+1} would revoke key 1. Anything else is a 400
 * ({@code invalid-request}, naming the parameter).
 *
 * <p>Property editors, since a binder falls back to Spring's lenient number editors when a
 * conversion-service converter refuses a value; registered once, in the web binding initializer
 * that prepares every binder, rather than by an {@code @InitBinder} advice: Spring builds an
 * advice's binder method anew for every request (reflection and annotation lookups on every
 * enrollment, about 2% of its request thread's samples, and work for the JIT).
 */
@Configuration(proxyBeanMethods = false)
class StrictNumbers {

    private static final Pattern INTEGER = Pattern.compile("-?[0-9]{1,19}");

    /** Adds {@link #register} to the binding initializer of Spring MVC's handler adapter. */
    @Bean
    static BeanPostProcessor strictNumberBinding() {
        return new BeanPostProcessor() {
            @Override
            public Object postProcessAfterInitialization(Object bean, String beanName) {
                if (bean instanceof RequestMappingHandlerAdapter adapter
                        && adapter.getWebBindingInitializer() instanceof ConfigurableWebBindingInitializer init) {
                    PropertyEditorRegistrar[] before = init.getPropertyEditorRegistrars();
                    PropertyEditorRegistrar[] all = before == null ? new PropertyEditorRegistrar[1]
                            : java.util.Arrays.copyOf(before, before.length + 1);
                    all[all.length - 1] = StrictNumbers::register;
                    init.setPropertyEditorRegistrars(all);
                }
                return bean;
            }
        };
    }

    static void register(PropertyEditorRegistry binder) {
        binder.registerCustomEditor(long.class, new Editor(false, true));
        binder.registerCustomEditor(Long.class, new Editor(true, true));
        binder.registerCustomEditor(int.class, new Editor(false, false));
        binder.registerCustomEditor(Integer.class, new Editor(true, false));
    }

    private static final class Editor extends PropertyEditorSupport {
        private final boolean nullable;
        private final boolean isLong;

        Editor(boolean nullable, boolean isLong) {
            this.nullable = nullable;
            this.isLong = isLong;
        }

        @Override
        public void setAsText(String text) {
            if (text == null || text.isEmpty()) {
                if (!nullable) {
                    throw new IllegalArgumentException("an empty value is not a number");
                }
                setValue(null);
                return;
            }
            if (!INTEGER.matcher(text).matches()) {
                throw new IllegalArgumentException("not a decimal integer");
            }
            // NumberFormatException (an IllegalArgumentException) beyond the type's range.
            setValue(isLong ? (Object) Long.valueOf(text) : (Object) Integer.valueOf(text));
        }
    }
}
