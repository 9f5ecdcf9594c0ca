package cli

import (
	"log/slog"
	"net"
	"strings"

	"github.com/spf13/cobra"

	_ "github.com/yieldvault/yieldvault/adapters/all" // every market kind's driver
	"github.com/yieldvault/yieldvault/execution"
	"github.com/yieldvault/yieldvault/execution/node"
	"github.com/yieldvault/yieldvault/service"
)

func newServeCmd(a *app) *cobra.Command {
	var cfgPath, listen, level, format string
	var jsonLogs bool
	cmd := &cobra.Command{
		Use:   "serve -c service.yaml",
		Short: "Run the scheduled rebalancing service (cron schedules, SQLite state, JSON API, metrics)",
		Long: "Load the vaults, sources and settings of a service configuration, then harvest, rebalance\n" +
			"and check exits on each vault's schedules, refresh market data, and serve the API and\n" +
			"Prometheus metrics (127.0.0.1:8080 by default) until SIGINT or SIGTERM. See docs/operations.md.",
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfgPath == "" {
				return usagef("serve needs -c FILE")
			}
			var lvl slog.Level
			if err := lvl.UnmarshalText([]byte(level)); err != nil {
				return usagef("--log-level %q is not debug, info, warn or error", level)
			}
			if jsonLogs {
				format = "json"
			}
			if format != "text" && format != "json" {
				return usagef("--log-format %q is not text or json", format)
			}
			cfg, err := service.LoadConfig(cfgPath)
			if err != nil {
				return err
			}
			if listen != "" {
				if err := checkListenFlag(listen, cfg.AllowNonLoopback); err != nil {
					return err
				}
				cfg.Listen = listen
			}
			opts := &slog.HandlerOptions{Level: lvl}
			var h slog.Handler = slog.NewTextHandler(a.stderr, opts)
			if format == "json" {
				h = slog.NewJSONHandler(a.stderr, opts)
			}
			log := slog.New(h)
			ctx := cmd.Context()
			sopts := service.Options{Wall: a.now, Logger: log, Version: buildVersion()}
			if cfg.Execution != nil && cfg.Execution.Mode == execution.ModePropose && cfg.Execution.RPC != "" {
				// Propose mode reads API deposits' and withdrawals' transfers through it.
				if sopts.ChainClient, err = node.Dial(ctx, cfg.Execution.RPC, cfg.Execution.ChainID); err != nil {
					return err
				}
			}
			if cfg.Execution != nil && cfg.Execution.Mode == execution.ModeSend {
				if sopts.ChainClient, err = node.Dial(ctx, cfg.Execution.RPC, cfg.Execution.ChainID); err != nil {
					return err
				}
				if rs, ok := cfg.Execution.Signer.(*execution.RPCSigner); ok {
					if err := node.ConnectSigner(ctx, rs); err != nil {
						return err
					}
				}
			}
			svc, err := service.New(ctx, cfg, sopts)
			if err != nil {
				if ctx.Err() != nil {
					// SIGINT or SIGTERM during start-up: a clean stop.
					log.Info("stopped during start-up", "err", err)
					return nil
				}
				return err
			}
			defer svc.Close()
			ln, err := net.Listen("tcp", cfg.Listen)
			if err != nil {
				return err
			}
			// The address actually bound (with port 0 the kernel picks one).
			log.Info("listening", "addr", ln.Addr().String())
			return svc.Run(ctx, ln)
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "service configuration file (YAML)")
	cmd.Flags().StringVar(&listen, "listen", "", "override the configuration's listen address")
	cmd.Flags().StringVar(&level, "log-level", "info", "log level: debug, info, warn, error")
	cmd.Flags().StringVar(&format, "log-format", "text", "log format: text (logfmt) or json (one JSON object a line)")
	cmd.Flags().BoolVar(&jsonLogs, "log-json", false, "same as --log-format json")
	_ = cmd.Flags().MarkDeprecated("log-json", "use --log-format json")
	return cmd
}

// checkListenFlag applies the loopback rule to --listen.
func checkListenFlag(addr string, allow bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usagef("--listen %q is not host:port", addr)
	}
	if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || strings.EqualFold(host, "localhost") || allow {
		return nil
	}
	return usagef("--listen %q is not a loopback address (set allow_non_loopback in the configuration)", addr)
}
