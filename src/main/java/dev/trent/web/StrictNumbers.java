package dev.trent.web;

import java.beans.PropertyEditorSupport;
import java.util.regex.Pattern;

import org.springframework.web.bind.WebDataBinder;
import org.springframework.web.bind.annotation.ControllerAdvice;
import org.springframework.web.bind.annotation.InitBinder;

/**
 * Numbers in paths and query strings parse strictly: optional minus and decimal digits only.
 * Spring's default would read {@code +1}, {@code " 1"} and {@code 0x01} all as 1, so
 * {@code DELETE /api/v1/api-keys/+1} would revoke key 1. Anything else is a 400
 * ({@code invalid-request}, naming the parameter).
 */
@ControllerAdvice
class StrictNumbers {

    private static final Pattern INTEGER = Pattern.compile("-?[0-9]{1,19}");

    @InitBinder
    void strictNumbers(WebDataBinder binder) {
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
            setValue(isLong ? Long.valueOf(text) : Integer.valueOf(text));
        }
    }
}
