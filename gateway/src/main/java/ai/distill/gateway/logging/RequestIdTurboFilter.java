package ai.distill.gateway.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.MDC;
import org.slf4j.Marker;

/**
 * Puts the request id of the current Vert.x context ({@link RequestIdLocal}) in the MDC before
 * Logback builds a logging event, and takes it out again on the first line logged outside a
 * request, so every line of a request carries its id whichever callback logs it. Never filters: it
 * always answers {@link FilterReply#NEUTRAL}.
 */
final class RequestIdTurboFilter extends TurboFilter {

  /** The id this filter put in this thread's MDC, so it removes only its own. */
  private static final ThreadLocal<String> PUT = new ThreadLocal<>();

  @Override
  public FilterReply decide(
      Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
    String id = RequestIdLocal.current();
    if (id != null) {
      if (!id.equals(MDC.get(RequestIdHandler.MDC_KEY))) {
        MDC.put(RequestIdHandler.MDC_KEY, id);
      }
      PUT.set(id);
    } else {
      String mine = PUT.get();
      if (mine != null) {
        if (mine.equals(MDC.get(RequestIdHandler.MDC_KEY))) {
          MDC.remove(RequestIdHandler.MDC_KEY);
        }
        PUT.remove();
      }
    }
    return FilterReply.NEUTRAL;
  }
}
