package mydrtv.neo4j;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.BoltConnectorInternalSettings;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.io.ByteUnit;

/**
 * A Neo4j Community server for tests and `mydrtv dev`: the database in HOME, Bolt on
 * 127.0.0.1:PORT without authentication, nothing else listening.
 *
 * <p>Usage: {@code java -cp 'classes:lib/*' mydrtv.neo4j.Launcher HOME PORT [PAGE_CACHE_MIB]}.
 * It prints {@code mydrtv-neo4j ready bolt://127.0.0.1:PORT} once the default database answers,
 * and stops (cleanly, in about a second) on SIGTERM or when its standard input reaches end of
 * file: the parent holds the other end of that pipe, so the server never outlives it.
 */
public final class Launcher {
    public static final String READY = "mydrtv-neo4j ready";

    private Launcher() {}

    public static void main(String[] args) throws IOException {
        if (args.length < 2 || args.length > 3) {
            System.err.println("usage: Launcher HOME PORT [PAGE_CACHE_MIB]");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        int port = Integer.parseInt(args[1]);
        long pageCacheMib = args.length > 2 ? Long.parseLong(args[2]) : 64;

        DatabaseManagementService service = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", port))
                .setConfig(HttpConnector.enabled, false)
                .setConfig(HttpsConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, false)
                .setConfig(GraphDatabaseSettings.udc_enabled, false)
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(pageCacheMib))
                .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                .setConfig(GraphDatabaseSettings.keep_logical_logs, "false")
                // Without these, a stop waits ~10 s for Bolt connections and threads to wind down.
                .setConfig(BoltConnectorInternalSettings.connection_shutdown_wait_time, Duration.ZERO)
                .setConfig(BoltConnectorInternalSettings.thread_pool_shutdown_wait_time, Duration.ZERO)
                .build();
        Runtime.getRuntime().addShutdownHook(new Thread(service::shutdown, "mydrtv-neo4j-shutdown"));

        GraphDatabaseService db = service.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
        if (!db.isAvailable(TimeUnit.MINUTES.toMillis(5))) {
            System.err.println("mydrtv-neo4j: the default database did not become available");
            System.exit(1);
        }
        System.out.println(READY + " bolt://127.0.0.1:" + port);
        System.out.flush();

        // The parent's end of our stdin closes when it exits, however it exits.
        while (System.in.read() != -1) {
            // anything written to us is ignored
        }
        System.exit(0); // runs the shutdown hook
    }
}
