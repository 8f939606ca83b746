package ai.distill.gateway;

import ai.distill.gateway.grpc.GrpcInferenceService;
import ai.distill.gateway.http.AdminAuth;
import ai.distill.gateway.http.OipRoutes;
import ai.distill.gateway.http.SlowClientGuard;
import ai.distill.gateway.metrics.GatewayMetrics;
import ai.distill.gateway.runtime.ModelRegistry;
import ai.distill.gateway.runtime.SessionFactory;
import ai.distill.gateway.stream.NdjsonStreamHandler;
import ai.distill.gateway.stream.StreamOptions;
import ai.distill.gateway.stream.StreamStats;
import ai.distill.store.ModelStore;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * The running gateway: one HTTP port serving the Open Inference Protocol v2 (and NDJSON streams)
 * for every model in the store, an optional gRPC port serving OIP v2 over gRPC, with dynamic
 * batching, hot swap and Prometheus metrics.
 *
 * <pre>{@code
 * Gateway gateway = Gateway.start(vertx, GatewayConfig.builder(Path.of("store")).port(0).build())
 *     .await();
 * int port = gateway.port();
 * gateway.router().get("/v1/experiments").handler(...);   // mount more routes
 * gateway.addTargetResolver(experiments);                 // route infer to experiments
 * gateway.close().await();                                // graceful
 * }</pre>
 *
 * <p>Thread-safe. Owns the model registry (and so every ORT session), its worker executors and the
 * HTTP and gRPC servers; {@link #close()} releases them all, but not the {@link Vertx} instance.
 */
public final class Gateway {

  private static final System.Logger LOG = System.getLogger(Gateway.class.getName());

  /** Environment variable holding the admin token when {@code --admin-token} is not given. */
  public static final String ADMIN_TOKEN_ENV = "DISTILL_ADMIN_TOKEN";

  private static final java.util.concurrent.atomic.AtomicInteger EPHEMERAL =
      new java.util.concurrent.atomic.AtomicInteger();

  private final Vertx vertx;
  private final GatewayConfig config;
  private final ModelStore store;
  private final PrometheusRegistry registry;
  private final GatewayMetrics metrics;
  private final SessionFactory sessions;
  private final ModelRegistry models;
  private final Router router;
  private final InferPipeline pipeline;
  private final NdjsonStreamHandler streams;
  private final List<InferTargetResolver> resolvers = new CopyOnWriteArrayList<>();
  private final String adminToken;
  private final AdminAuth adminAuth;
  private volatile boolean ready;
  private volatile boolean draining;
  private final List<HttpServer> servers = new CopyOnWriteArrayList<>();
  private final List<HttpServer> grpcServers = new CopyOnWriteArrayList<>();
  private final List<String> deployments = new CopyOnWriteArrayList<>();
  private Future<Void> closing;

  private Gateway(Vertx vertx, GatewayConfig config, ModelStore store, String adminToken) {
    this.vertx = vertx;
    this.config = config;
    this.store = store;
    this.adminToken = adminToken;
    this.adminAuth = new AdminAuth(adminToken);
    this.registry = new PrometheusRegistry();
    this.metrics = GatewayMetrics.register(registry, true);
    this.sessions = new SessionFactory(config.session());
    this.models =
        new ModelRegistry(
            vertx,
            store,
            sessions,
            metrics,
            new ModelRegistry.Options(
                config.workers(), config::batching, config.watchInterval(), config::modelPolicy));
    this.router = Router.router(vertx);
    // While shutting down, answers tell keep-alive clients to reconnect (to another instance)
    // instead of sending more requests on a connection that is about to close.
    router
        .route()
        .handler(
            ctx -> {
              if (draining) {
                ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
              }
              ctx.next();
            });
    this.pipeline = new InferPipeline(models, metrics, resolvers, () -> ready, config.limits());
    this.streams =
        new NdjsonStreamHandler(
            pipeline,
            StreamOptions.DEFAULT
                .withStallTimeout(config.streamStallTimeout())
                .withMaxRows(config.limits().maxStreamRows()));
    OipRoutes.mount(
        router, pipeline, metrics, () -> ready, adminAuth, config.maxBodyBytes(), streams);
  }

  /**
   * Opens the store, loads the latest version of every model, starts watching the store and listens
   * on {@code config.host():config.port()}. The future fails when the store cannot be opened or the
   * port cannot be bound; a model that fails to load does not fail the start.
   */
  public static Future<Gateway> start(Vertx vertx, GatewayConfig config) {
    return vertx
        .<Gateway>executeBlocking(
            () -> {
              ModelStore store = ModelStore.open(config.store());
              return new Gateway(vertx, config, store, resolveAdminToken(config));
            },
            false)
        .compose(
            g ->
                g.models
                    .start()
                    .compose(v -> g.listen())
                    .map(g)
                    .recover(e -> g.close().transform(ignored -> Future.failedFuture(e))));
  }

  // One HTTP server per event loop (config event_loops), all sharing one port. For an ephemeral
  // port Vert.x shares "the" random port between servers that listen on the same negative port,
  // so each gateway uses its own negative number.
  private Future<Void> listen() {
    int loops = config.eventLoops();
    int port = config.port() != 0 ? config.port() : -1 - (EPHEMERAL.getAndIncrement() % 10_000);
    return deployServers(port, loops)
        .compose(v -> deployGrpcServers(loops))
        .map(
            v -> {
              ready = true;
              ShutdownSignals.register(this);
              LOG.log(
                  System.Logger.Level.INFO,
                  "gateway listening on {0}:{1} ({2} event loops, {3} transport) serving {4}",
                  config.host(),
                  Integer.toString(port()),
                  loops,
                  vertx.isNativeTransportEnabled() ? "native" : "NIO",
                  models.loadedNames());
              return null;
            });
  }

  private Future<Void> deployServers(int port, int instances) {
    HttpServerOptions options =
        new HttpServerOptions()
            .setHost(config.host())
            .setPort(port)
            .setCompressionSupported(false)
            .setTcpNoDelay(true)
            .setMaxInitialLineLength(8192)
            .setIdleTimeout((int) config.idleTimeout().toMillis())
            .setIdleTimeoutUnit(TimeUnit.MILLISECONDS);
    return vertx
        .deployVerticle(
            () ->
                new VerticleBase() {
                  @Override
                  public Future<?> start() {
                    SlowClientGuard guard = new SlowClientGuard(vertx, config.requestBodyTimeout());
                    return vertx
                        .createHttpServer(options)
                        .requestHandler(guard.wrap(router))
                        .listen()
                        .onSuccess(servers::add);
                  }
                },
            new DeploymentOptions().setInstances(instances))
        .map(
            id -> {
              deployments.add(id);
              return null;
            });
  }

  // The gRPC port (0: none; -1: ephemeral), one server per event loop like HTTP.
  private Future<Void> deployGrpcServers(int instances) {
    if (config.grpcPort() == 0) {
      return Future.succeededFuture();
    }
    int port =
        config.grpcPort() > 0 ? config.grpcPort() : -1 - (EPHEMERAL.getAndIncrement() % 10_000);
    HttpServerOptions options =
        new HttpServerOptions().setHost(config.host()).setPort(port).setTcpNoDelay(true);
    GrpcInferenceService service =
        new GrpcInferenceService(
            vertx,
            pipeline,
            () -> ready,
            adminToken,
            StreamOptions.DEFAULT
                .withStallTimeout(config.streamStallTimeout())
                .withMaxRows(config.limits().maxStreamRows()),
            streams.stats());
    return vertx
        .deployVerticle(
            () ->
                new VerticleBase() {
                  @Override
                  public Future<?> start() {
                    return vertx
                        .createHttpServer(options)
                        .connectionHandler(GrpcInferenceService.connectionHandler())
                        .requestHandler(service.server(config.maxBodyBytes()))
                        .listen()
                        .onSuccess(grpcServers::add);
                  }
                },
            new DeploymentOptions().setInstances(instances))
        .map(
            id -> {
              deployments.add(id);
              return null;
            });
  }

  // --admin-token, else DISTILL_ADMIN_TOKEN, else <store>/admin.token (created, mode 600).
  private static String resolveAdminToken(GatewayConfig config) {
    if (config.adminToken() != null) {
      return config.adminToken();
    }
    String env = System.getenv(ADMIN_TOKEN_ENV);
    if (env != null && !env.isBlank()) {
      return env.trim();
    }
    Path file = config.store().resolve("admin.token");
    try {
      if (Files.exists(file)) {
        String existing = Files.readString(file, StandardCharsets.UTF_8).trim();
        if (!existing.isEmpty()) {
          return existing;
        }
      }
      byte[] random = new byte[24];
      new SecureRandom().nextBytes(random);
      String token = HexFormat.of().formatHex(random);
      Files.createDirectories(config.store());
      Path tmp = config.store().resolve("admin.token.tmp");
      Files.deleteIfExists(tmp);
      try {
        Files.createFile(
            tmp,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      } catch (UnsupportedOperationException | FileAlreadyExistsException e) {
        Files.createFile(tmp);
      }
      Files.writeString(tmp, token + "\n", StandardCharsets.UTF_8);
      Files.move(
          tmp,
          file,
          java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      LOG.log(System.Logger.Level.INFO, "admin token written to {0} (mode 600)", file);
      return token;
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot create the admin token file "
              + file
              + ": "
              + e.getMessage()
              + " (or pass --admin-token / "
              + ADMIN_TOKEN_ENV
              + ")",
          e);
    }
  }

  /** The bound port (the ephemeral one when the configured port is 0); -1 before listening. */
  public int port() {
    return servers.isEmpty() ? -1 : servers.get(0).actualPort();
  }

  /** The bound gRPC port; -1 when gRPC is disabled or before listening. */
  public int grpcPort() {
    return grpcServers.isEmpty() ? -1 : grpcServers.get(0).actualPort();
  }

  /** The transport-agnostic inference path every transport uses. */
  public InferPipeline pipeline() {
    return pipeline;
  }

  /** What the open streams (NDJSON and gRPC ModelStreamInfer) hold now. */
  public StreamStats streamStats() {
    return streams.stats();
  }

  /** The configuration the gateway was started with. */
  public GatewayConfig config() {
    return config;
  }

  /** The Prometheus registry behind {@code GET /metrics}; other modules may register metrics. */
  public PrometheusRegistry registry() {
    return registry;
  }

  /** The gateway's own metrics. */
  public GatewayMetrics metrics() {
    return metrics;
  }

  /** The loaded models. */
  public ModelRegistry models() {
    return models;
  }

  /** The model store. */
  public ModelStore store() {
    return store;
  }

  /** The HTTP router: mount more routes on it (they run before the JSON 404 fallback). */
  public Router router() {
    return router;
  }

  /** The Vert.x instance the gateway runs on. */
  public Vertx vertx() {
    return vertx;
  }

  /** The admin token (from the config, the environment or {@code <store>/admin.token}). */
  public String adminToken() {
    return adminToken;
  }

  /** A route handler that requires the admin token (401 without, 403 with a wrong one). */
  public Handler<RoutingContext> adminAuth() {
    return adminAuth;
  }

  /** True while serving (false before start completes and once close began). */
  public boolean ready() {
    return ready;
  }

  /**
   * Routes infer requests for names that are not loaded models; see {@link InferTargetResolver}.
   */
  public void addTargetResolver(InferTargetResolver resolver) {
    resolvers.add(resolver);
  }

  public void removeTargetResolver(InferTargetResolver resolver) {
    resolvers.remove(resolver);
  }

  /**
   * Graceful shutdown, in this order: readiness and new infer requests answer 503 while the server
   * keeps listening for {@code shutdown_grace} (load balancers see the instance leave); then the
   * server stops accepting connections and waits (up to {@code drain_timeout}) until every
   * in-flight response is written; then every batcher drains (queued requests still run), every
   * running batch returns from ORT, and only then the sessions and the ORT executor close.
   * Idempotent.
   */
  public synchronized Future<Void> close() {
    if (closing != null) {
      return closing;
    }
    ready = false;
    draining = true;
    models.expedite();
    long graceMillis = config.shutdownGrace().toMillis();
    long drainMillis = config.drainTimeout().toMillis();
    Promise<Void> graceOver = Promise.promise();
    if (graceMillis > 0 && !servers.isEmpty()) {
      vertx.setTimer(graceMillis, id -> graceOver.complete());
    } else {
      graceOver.complete();
    }
    Future<Void> serverDown =
        graceOver
            .future()
            .compose(
                g -> {
                  List<Future<Void>> shutdowns = new ArrayList<>();
                  List<HttpServer> all = new ArrayList<>(servers);
                  all.addAll(grpcServers);
                  for (HttpServer s : all) {
                    shutdowns.add(s.shutdown(drainMillis, TimeUnit.MILLISECONDS).otherwiseEmpty());
                  }
                  return Future.join(shutdowns).<Void>mapEmpty().otherwiseEmpty();
                })
            .eventually(
                () -> {
                  List<Future<Void>> undeploys = new ArrayList<>();
                  for (String id : deployments) {
                    undeploys.add(vertx.undeploy(id).otherwiseEmpty());
                  }
                  return Future.join(undeploys);
                });
    Promise<Void> done = Promise.promise();
    serverDown
        .eventually(models::close)
        .onComplete(
            ar -> {
              sessions.close();
              ShutdownSignals.unregister(this);
              LOG.log(System.Logger.Level.INFO, "gateway stopped");
              done.complete();
            });
    closing = done.future();
    return closing;
  }
}
