// Command ferretdb runs FerretDB (MongoDB wire protocol) for local development
// and tests: on PostgreSQL when -postgresql-url is given, else on an embedded
// SQLite backend in -data-dir.
//
// We wrap the embeddable package instead of `go install ./cmd/ferretdb` because
// the upstream command reads a version.txt that the module download lacks and
// panics at start-up.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27117", "TCP address to listen on")
	postgresqlURL := flag.String("postgresql-url", "", "PostgreSQL database to store data in (e.g. postgres://postgres@127.0.0.1:25432/ferretdb); empty: SQLite")
	dataDir := flag.String("data-dir", "var/ferretdb", "directory holding the SQLite files (without -postgresql-url)")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: bad -log-level %q\n", *logLevel)
		os.Exit(2)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	config := ferretdb.Config{Listener: ferretdb.ListenerConfig{TCP: *listen}, Logger: logger}
	where := *postgresqlURL
	if where != "" {
		config.Handler = "postgresql"
		config.PostgreSQLURL = where
	} else {
		if err := os.MkdirAll(*dataDir, 0o755); err != nil {
			fmt.Fprintf(os.Stderr, "ferretdb: cannot create %s: %v\n", *dataDir, err)
			os.Exit(1)
		}
		config.Handler = "sqlite"
		config.SQLiteURL = "file:" + *dataDir + "/"
		where = *dataDir
	}

	f, err := ferretdb.New(&config)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fmt.Fprintf(os.Stderr, "ferretdb: listening on %s, %s backend, data in %s\n", *listen, config.Handler, where)
	if err := f.Run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb: %v\n", err)
		os.Exit(1)
	}
}
