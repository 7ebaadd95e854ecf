package main

import (
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
)

// reloader applies a SIGHUP: it reloads the PEM pair and reopens the log
// file. Connections are never touched: a handshake in progress keeps the
// *tls.Certificate it already loaded, and later ones load the new pointer.
type reloader struct {
	certFile, keyFile string
	certs             *certStore // nil with ACME, which renews on its own
	events            *eventLog
	metrics           *metrics
	log               *logrus.Entry
}

// watch runs reload on every SIGHUP until stop is called. stop waits for a
// reload in progress, so the caller may close the log file right after.
func (r *reloader) watch() (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-hup:
				r.reload()
			case <-quit:
				return
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(quit)
		<-done
	}
}

func (r *reloader) reload() {
	if r.certs != nil {
		r.reloadCert()
	}
	// logrotate "create" renamed the file: the new one starts here. With
	// "copytruncate" this reopens the same file, which O_APPEND already
	// writes at its new end.
	if err := r.events.reopen(); err != nil {
		r.log.WithError(err).Error("SIGHUP: cannot reopen the log file; still writing the old one")
		r.metrics.reloaded("log_file", false)
		return
	}
	r.log.WithField("file", r.events.path).Info("SIGHUP: log file reopened")
	r.metrics.reloaded("log_file", true)
}

// reloadCert swaps in the PEM pair if it loads, and otherwise keeps serving
// the current certificate: a half-copied or mismatched pair must not take a
// running server down.
func (r *reloader) reloadCert() {
	fresh, err := loadCertificate(r.certFile, r.keyFile)
	switch {
	case err != nil:
		r.log.WithError(err).Error("SIGHUP: certificate not reloaded; keeping the old one")
		r.metrics.reloaded("certificate", false)
		return
	case fresh.selfSigned:
		// Still no files: a new throwaway certificate would only change
		// what clients pin for no reason.
		r.log.Warnf("SIGHUP: still no %s or %s; keeping the self-signed certificate", r.certFile, r.keyFile)
		return
	}
	c := fresh.cert.Load()
	r.certs.cert.Store(c)
	e := r.log.WithFields(logrus.Fields{"cert": r.certFile})
	if c.Leaf != nil {
		names := c.Leaf.DNSNames
		if len(names) == 0 {
			names = []string{c.Leaf.Subject.CommonName}
		}
		e = e.WithFields(logrus.Fields{"names": strings.Join(names, ","), "not_after": c.Leaf.NotAfter.UTC().Format(time.RFC3339)})
	}
	e.Info("SIGHUP: certificate reloaded")
	r.metrics.reloaded("certificate", true)
}
