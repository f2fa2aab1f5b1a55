package dev.trent.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.springframework.beans.SimpleTypeConverter;
import org.springframework.beans.TypeMismatchException;
import org.springframework.format.support.DefaultFormattingConversionService;
import org.springframework.web.bind.support.ConfigurableWebBindingInitializer;
import org.springframework.web.bind.WebDataBinder;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerAdapter;

/**
 * The strict number editors, in a converter set up as Spring MVC's binders are (with the
 * conversion service whose lenient number parsing they must win over).
 */
class StrictNumbersTest {

    private final SimpleTypeConverter binder = new SimpleTypeConverter();

    StrictNumbersTest() {
        binder.setConversionService(new DefaultFormattingConversionService());
        StrictNumbers.register(binder);
    }

    @Test
    void decimalDigitsWhenConvertedThenTheNumberOfTheTargetsType() {
        assertThat(binder.convertIfNecessary("42", long.class)).isEqualTo(42L);
        assertThat(binder.convertIfNecessary("-7", Long.class)).isEqualTo(-7L);
        assertThat(binder.convertIfNecessary("42", int.class)).isEqualTo(42);
        assertThat(binder.convertIfNecessary("2147483647", Integer.class)).isEqualTo(Integer.MAX_VALUE);
    }

    @Test
    void anythingElseWhenConvertedThenRefused() {
        for (String text : new String[] {"+1", " 1", "0x1", "1e0", "1.0", "99999999999999999999"}) {
            assertThatThrownBy(() -> binder.convertIfNecessary(text, long.class)).as(text)
                    .isInstanceOf(TypeMismatchException.class);
            assertThatThrownBy(() -> binder.convertIfNecessary(text, Integer.class)).as(text)
                    .isInstanceOf(TypeMismatchException.class);
        }
        assertThatThrownBy(() -> binder.convertIfNecessary("2147483648", int.class))
                .isInstanceOf(TypeMismatchException.class);
        assertThatThrownBy(() -> binder.convertIfNecessary("", long.class)).isInstanceOf(TypeMismatchException.class);
        assertThat(binder.convertIfNecessary("", Long.class)).isNull();
    }

    @Test
    void handlerAdapterWhenPostProcessedThenEveryBinderGetsTheEditorsAndKeepsItsConversionService() {
        RequestMappingHandlerAdapter adapter = new RequestMappingHandlerAdapter();
        ConfigurableWebBindingInitializer init = new ConfigurableWebBindingInitializer();
        DefaultFormattingConversionService conversions = new DefaultFormattingConversionService();
        init.setConversionService(conversions);
        adapter.setWebBindingInitializer(init);

        StrictNumbers.strictNumberBinding().postProcessAfterInitialization(adapter, "requestMappingHandlerAdapter");
        WebDataBinder dataBinder = new WebDataBinder(null);
        init.initBinder(dataBinder);

        assertThat(dataBinder.getConversionService()).isSameAs(conversions);
        assertThatThrownBy(() -> dataBinder.convertIfNecessary("0x1", long.class))
                .isInstanceOf(TypeMismatchException.class);
        assertThat(dataBinder.convertIfNecessary("12", int.class)).isEqualTo(12);
    }
}
