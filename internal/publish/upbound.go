package publish

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	up "github.com/upbound/up-sdk-go"
	"github.com/upbound/up-sdk-go/service/repositories"

	"github.com/crossplane/crossplane-runtime/v2/pkg/errors"
)

const (
	errNoToken      = "cannot ensure Upbound repositories: set UP_TOKEN to an Upbound API token (personal or robot access token)"
	errTokenFormat  = "cannot read the Upbound token: it is not a JWT with an ID (jti) claim"
	errAPIURL       = "cannot parse the Upbound API URL"
	errLogin        = "cannot log in to the Upbound API"
	errFmtLoginCode = "cannot log in to the Upbound API: %s"
	errNoSession    = "cannot log in to the Upbound API: the response set no session cookie"
	errFmtEnsure    = "cannot create or update Upbound repository %s/%s"
	errFmtCheck     = "Upbound repository %s/%s is %s after the update, want %s"
	errFmtGet       = "cannot read Upbound repository %s/%s"
)

// loginPath is where the Upbound API exchanges a token for a session
// cookie, as `up login --token` does (upbound/up cmd/up/login).
const loginPath = "/v1/login"

// Visibility of an Upbound repository.
type Visibility string

// Visibilities.
const (
	Public  Visibility = "public"
	Private Visibility = "private"
)

// A RepositoryClient creates, updates and reads Upbound repositories; up-sdk-go's
// repositories.Client is one.
type RepositoryClient interface {
	CreateOrUpdateWithOptions(ctx context.Context, account, name string, opts ...repositories.CreateOrUpdateOption) error
	Get(ctx context.Context, account, name string) (*repositories.RepositoryResponse, error)
}

var _ RepositoryClient = &repositories.Client{}

// TokenID returns the ID (jti claim) of an Upbound API token, which the
// login and the registry take as the user name. The signature is not
// checked: the API does that.
func TokenID(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", errors.New(errTokenFormat)
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", errors.New(errTokenFormat)
	}
	var claims struct {
		ID string `json:"jti"`
	}
	if err := json.Unmarshal(b, &claims); err != nil || claims.ID == "" {
		return "", errors.New(errTokenFormat)
	}
	return claims.ID, nil
}

// NewUpboundClient logs in to the Upbound API at apiURL with token and
// returns a repositories client that sends the session cookie the login
// set. hc may be nil (a client with a 30 s timeout is used). Neither the
// token nor the cookie appears in any error.
func NewUpboundClient(ctx context.Context, apiURL, token string, hc *http.Client) (*repositories.Client, error) {
	if token == "" {
		return nil, errors.New(errNoToken)
	}
	id, err := TokenID(token)
	if err != nil {
		return nil, err
	}
	base, err := url.Parse(apiURL)
	if err != nil {
		return nil, errors.Wrap(err, errAPIURL)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, errors.Wrap(err, errLogin)
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	// A copy, so the caller's client does not keep the session.
	c := *hc
	c.Jar = jar

	body, err := json.Marshal(struct {
		ID       string `json:"id"`
		Password string `json:"password"`
		Remember bool   `json:"remember"`
	}{ID: id, Password: token, Remember: true})
	if err != nil {
		return nil, errors.Wrap(err, errLogin)
	}
	login := base.JoinPath(loginPath)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, login.String(), bytes.NewReader(body))
	if err != nil {
		return nil, errors.Wrap(err, errLogin)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		// The URL in a transport error holds no credentials: they are
		// in the body.
		return nil, errors.Wrap(err, errLogin)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<16))
	if res.StatusCode/100 != 2 {
		// The status only: a body could echo what was sent.
		return nil, errors.Errorf(errFmtLoginCode, res.Status)
	}
	if len(jar.Cookies(base)) == 0 {
		return nil, errors.New(errNoSession)
	}

	cfg := up.NewConfig(func(cfg *up.Config) {
		cfg.Client = up.NewClient(func(uc *up.HTTPClient) {
			uc.BaseURL = base
			uc.HTTP = &c
			uc.UserAgent = "crossplane-hourglass-publish"
		})
	})
	return repositories.NewClient(cfg), nil
}

// EnsureRepositories creates each package's repository in the Upbound
// organization org, or updates it, with the given visibility and publish
// policy (publish: versions are listed in the Marketplace; otherwise they
// stay drafts), then reads it back to check the visibility took. The call
// is idempotent, so running it before every push is safe.
func EnsureRepositories(ctx context.Context, w io.Writer, c RepositoryClient, org string, pkgs []Package, v Visibility, publish bool) error {
	opts := []repositories.CreateOrUpdateOption{repositories.WithPrivate()}
	if v == Public {
		opts[0] = repositories.WithPublic()
	}
	if publish {
		opts = append(opts, repositories.WithPublish())
	} else {
		opts = append(opts, repositories.WithDraft())
	}
	for _, p := range pkgs {
		if err := c.CreateOrUpdateWithOptions(ctx, org, p.Name, opts...); err != nil {
			return errors.Wrapf(err, errFmtEnsure, org, p.Name)
		}
		r, err := c.Get(ctx, org, p.Name)
		if err != nil {
			return errors.Wrapf(err, errFmtGet, org, p.Name)
		}
		got := Private
		if r.Public {
			got = Public
		}
		if got != v {
			return errors.Errorf(errFmtCheck, org, p.Name, got, v)
		}
		fmt.Fprintf(w, "  repository %s/%s: %s\n", org, p.Name, v)
	}
	return nil
}
