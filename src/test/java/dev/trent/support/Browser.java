package dev.trent.support;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.openqa.selenium.By;
import org.openqa.selenium.Cookie;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Debian's headless chromium, driven through its chromedriver by Selenium, for the console's
 * tests. Without chromium (or chromedriver) the test skips with the reason, and fails with
 * {@code CI=true}, where {@code .ci/run} installs both.
 */
public final class Browser implements AutoCloseable {

    private static final List<String> CHROMIUM = List.of("/usr/bin/chromium", "/usr/bin/chromium-browser");
    private static final List<String> DRIVER = List.of("/usr/bin/chromedriver",
            "/usr/lib/chromium/chromedriver");

    private static final HttpClient HTTP = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    private final ChromeDriver driver;
    private final String base;

    private Browser(ChromeDriver driver, String base) {
        this.driver = driver;
        this.base = base;
    }

    private static Path first(List<String> candidates) {
        return candidates.stream().map(Path::of).filter(Files::isExecutable).findFirst().orElse(null);
    }

    /** Skips (or in CI fails) the calling test unless chromium and chromedriver are installed. */
    public static void assumeAvailable() {
        if (first(CHROMIUM) == null || first(DRIVER) == null) {
            ExternalTool.unavailable("chromium and chromedriver are not installed (Debian: apt-get install chromium "
                    + "chromium-driver); the console's browser tests need them");
        }
    }

    /** A fresh headless browser (its own profile, so its own cookies) for {@code http://localhost:port}. */
    public static Browser open(int port) {
        assumeAvailable();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(first(CHROMIUM).toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1280,1000", "--lang=en-US");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(first(DRIVER).toFile())
                .usingAnyFreePort().build();
        ChromeDriver driver = new ChromeDriver(service, options);
        driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(60));
        return new Browser(driver, "http://localhost:" + port);
    }

    public WebDriver driver() {
        return driver;
    }

    public Browser go(String path) {
        driver.get(base + path);
        return this;
    }

    public String path() {
        return URI.create(driver.getCurrentUrl()).getPath();
    }

    public WebElement find(String css) {
        return driver.findElement(By.cssSelector(css));
    }

    public List<WebElement> all(String css) {
        return driver.findElements(By.cssSelector(css));
    }

    public String text(String css) {
        return find(css).getText();
    }

    public String pageText() {
        return find("body").getText();
    }

    /** Fills the form field {@code name} (input, textarea or select by visible text). */
    public Browser fill(String css, String value) {
        WebElement e = find(css);
        if ("select".equals(e.getTagName())) {
            new org.openqa.selenium.support.ui.Select(e).selectByValue(value);
        } else {
            e.clear();
            e.sendKeys(value);
        }
        return this;
    }

    /**
     * Clicks a button or link that loads another page, and waits until that page has replaced this
     * one (a marker set on this page's window is gone, and the new document is complete).
     */
    public Browser click(String css) {
        driver.executeScript("window.trentTestMarker = true");
        find(css).click();
        new org.openqa.selenium.support.ui.WebDriverWait(driver, Duration.ofSeconds(60))
                .ignoring(org.openqa.selenium.WebDriverException.class)
                .until(d -> Boolean.TRUE.equals(driver.executeScript(
                        "return window.trentTestMarker === undefined && document.readyState === 'complete'")));
        return this;
    }

    /** The session cookie's value, or null. */
    public String sessionCookie() {
        Cookie c = driver.manage().getCookieNamed("JSESSIONID");
        return c == null ? null : c.getValue();
    }

    /**
     * A screenshot of the whole page (the window stretched to the page's height) as a PNG at
     * {@code file}.
     */
    public void screenshot(Path file) throws IOException {
        Dimension before = driver.manage().window().getSize();
        Object height = driver.executeScript("return document.documentElement.scrollHeight");
        int h = Math.min(3000, Math.max(before.getHeight(), ((Number) height).intValue() + 20));
        driver.manage().window().setSize(new Dimension(before.getWidth(), h));
        try {
            Files.createDirectories(file.getParent());
            Files.write(file, driver.getScreenshotAs(OutputType.BYTES));
        } finally {
            driver.manage().window().setSize(before);
        }
    }

    /** A plain HTTP request carrying this browser's session cookie (to forge what a form would not send). */
    public HttpResponse<String> request(String method, String path, String formBody) throws IOException,
            InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
        // Every cookie the browser holds (the session's and the CSRF token's), as it would send them.
        String cookies = driver.manage().getCookies().stream().map(c -> c.getName() + "=" + c.getValue())
                .collect(java.util.stream.Collectors.joining("; "));
        if (!cookies.isEmpty()) {
            b.header("Cookie", cookies);
        }
        if (formBody != null) {
            b.header("Content-Type", "application/x-www-form-urlencoded");
            b.method(method, HttpRequest.BodyPublishers.ofString(formBody));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Override
    public void close() {
        driver.quit();
    }
}
