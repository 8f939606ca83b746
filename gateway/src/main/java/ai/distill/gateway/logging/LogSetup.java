package ai.distill.gateway.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.JsonEncoder;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.jul.LevelChangePropagator;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.util.Locale;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * Configures Logback for the gateway without an XML file: one stderr appender, human-readable text
 * or JSON lines, the root level, and whether the access log ({@value AccessLogHandler#LOGGER}) is
 * on. Logback finds it through {@code META-INF/services}; {@link #apply} reconfigures at run time
 * (the CLI calls it once it has parsed {@code --log-format} and {@code --access-log}).
 *
 * <p>Settings, each a system property or else an environment variable: {@code
 * distill.log.format}/{@code DISTILL_LOG_FORMAT} ({@code text} or {@code json}), {@code
 * distill.log.level}/{@code DISTILL_LOG_LEVEL} (default {@code INFO}), {@code
 * distill.access.log}/{@code DISTILL_ACCESS_LOG} ({@code true} turns the access log on).
 *
 * <p>System.Logger (used across the code, through slf4j-jdk-platform-logging) and java.util.logging
 * (through the SLF4J bridge) both end up here. Thread-safe.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_NORMAL_PRIORITY)
public final class LogSetup extends ContextAwareBase implements Configurator {

  /** How lines are written. */
  public enum Format {
    /** {@code 2026-05-01 12:00:00.123 INFO Gateway [req-id] message}. */
    TEXT,
    /** One JSON object per line (Logback's {@link JsonEncoder}: level, logger, mdc, message...). */
    JSON;

    /** Parses {@code text} or {@code json} (case-insensitive). */
    public static Format parse(String s) {
      return switch (s.trim().toLowerCase(Locale.ROOT)) {
        case "text" -> TEXT;
        case "json" -> JSON;
        default ->
            throw new IllegalArgumentException("log format : " + s + " (expected: text or json)");
      };
    }
  }

  /** The settings; {@link #fromEnvironment()} reads them from properties and the environment. */
  public record Settings(Format format, Level level, boolean accessLog) {

    /** System properties first, then environment variables, then text/INFO/no access log. */
    public static Settings fromEnvironment() {
      String format = setting("distill.log.format", "DISTILL_LOG_FORMAT");
      String level = setting("distill.log.level", "DISTILL_LOG_LEVEL");
      String access = setting("distill.access.log", "DISTILL_ACCESS_LOG");
      return new Settings(
          format == null ? Format.TEXT : Format.parse(format),
          level == null ? Level.INFO : Level.toLevel(level, Level.INFO),
          access != null && Boolean.parseBoolean(access.trim()));
    }

    /** A copy with another format. */
    public Settings withFormat(Format f) {
      return new Settings(f, level, accessLog);
    }

    /** A copy with the access log on or off. */
    public Settings withAccessLog(boolean on) {
      return new Settings(format, level, on);
    }
  }

  private static final String TEXT_PATTERN =
      "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level %logger{0}%replace( [%mdc{"
          + RequestIdHandler.MDC_KEY
          + "}]){' \\[\\]', ''} - %msg%n%ex";

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    configure(context, Settings.fromEnvironment());
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  /** Reconfigures the running Logback context (for the CLI's flags). */
  public static void apply(Settings settings) {
    if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
      context.reset();
      configure(context, settings);
    }
  }

  private static void configure(LoggerContext context, Settings settings) {
    LevelChangePropagator propagator = new LevelChangePropagator();
    propagator.setContext(context);
    propagator.setResetJUL(true);
    propagator.start();
    context.addListener(propagator);
    if (!SLF4JBridgeHandler.isInstalled()) {
      SLF4JBridgeHandler.removeHandlersForRootLogger();
      SLF4JBridgeHandler.install();
    }

    RequestIdTurboFilter requestIds = new RequestIdTurboFilter();
    requestIds.setContext(context);
    requestIds.start();
    context.addTurboFilter(requestIds);

    ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
    appender.setContext(context);
    appender.setName("stderr");
    appender.setTarget("System.err");
    appender.setEncoder(encoder(context, settings.format()));
    appender.start();

    ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.setLevel(settings.level());
    root.addAppender(appender);
    // Netty and Vert.x are chatty below INFO even when the gateway's own level is DEBUG.
    context.getLogger("io.netty").setLevel(Level.INFO);
    // Kafka's clients log every config and partition reset at INFO: warnings are what matter.
    context.getLogger("org.apache.kafka").setLevel(Level.WARN);
    context
        .getLogger(AccessLogHandler.LOGGER)
        .setLevel(settings.accessLog() ? Level.INFO : Level.OFF);
  }

  static Encoder<ILoggingEvent> encoder(LoggerContext context, Format format) {
    if (format == Format.JSON) {
      JsonEncoder json = new JsonEncoder();
      json.setContext(context);
      json.setWithSequenceNumber(false);
      json.setWithNanoseconds(false);
      json.setWithContext(false);
      json.setWithArguments(false);
      json.setWithMessage(false);
      json.setWithFormattedMessage(true);
      json.start();
      return json;
    }
    PatternLayoutEncoder text = new PatternLayoutEncoder();
    text.setContext(context);
    text.setPattern(TEXT_PATTERN);
    text.start();
    return text;
  }

  private static String setting(String property, String env) {
    String v = System.getProperty(property);
    if (v == null || v.isBlank()) {
      v = System.getenv(env);
    }
    return v == null || v.isBlank() ? null : v;
  }
}
