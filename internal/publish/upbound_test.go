package publish

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/upbound/up-sdk-go/service/repositories"
)

// testToken is a JWT-shaped Upbound token (the signature is not checked
// client side). Tests assert it never shows up in output or errors.
func testToken(id string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc([]byte(`{"jti":"`+id+`","sub":"robot"}`)) + ".c2VjcmV0LXNpZ25hdHVyZQ"
}

// fakeUpbound speaks the part of the Upbound API publish uses, as up-sdk-go
// v1.16.0 (service/repositories) and `up login --token` call it:
// POST /v1/login {id, password, remember} → a session cookie;
// PUT /v1/repositories/{org}/{name} {public, publish} and GET of the same
// path, both only with the session cookie.
type fakeUpbound struct {
	id, token string

	// Knobs for failure cases.
	loginStatus int  // non-zero: answer the login with it
	noCookie    bool // log in without setting a cookie
	putStatus   int  // non-zero: answer every PUT with it (and an Upbound error body)
	ignorePut   bool // accept PUTs but keep repositories private (a lying server)

	mu       sync.Mutex
	repos    map[string]repositories.RepositoryCreateOrUpdateRequest
	requests []string
}

const testSession = "session-3f9a"

func (f *fakeUpbound) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	if f.repos == nil {
		f.repos = map[string]repositories.RepositoryCreateOrUpdateRequest{}
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/login":
		var body struct {
			ID       string `json:"id"`
			Password string `json:"password"`
			Remember bool   `json:"remember"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad login body", http.StatusBadRequest)
			return
		}
		if f.loginStatus != 0 {
			w.WriteHeader(f.loginStatus)
			// An error body echoing the secret: the client must not pass it on.
			_, _ = w.Write([]byte(`{"status":401,"title":"Unauthorized","detail":"bad password ` + body.Password + `"}`))
			return
		}
		if body.ID != f.id || body.Password != f.token || !body.Remember {
			http.Error(w, `{"status":401,"title":"Unauthorized"}`, http.StatusUnauthorized)
			return
		}
		if !f.noCookie {
			http.SetCookie(w, &http.Cookie{Name: "SID", Value: testSession, Path: "/", HttpOnly: true})
		}
		w.WriteHeader(http.StatusOK)
	case strings.HasPrefix(r.URL.Path, "/v1/repositories/"):
		if c, err := r.Cookie("SID"); err != nil || c.Value != testSession {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"status":401,"title":"Unauthorized"}`))
			return
		}
		key := strings.TrimPrefix(r.URL.Path, "/v1/repositories/")
		if strings.Count(key, "/") != 1 {
			http.NotFound(w, r)
			return
		}
		switch r.Method {
		case http.MethodPut:
			if f.putStatus != 0 {
				w.WriteHeader(f.putStatus)
				_, _ = w.Write([]byte(`{"status":403,"title":"Forbidden","detail":"not a member of the organization"}`))
				return
			}
			var body repositories.RepositoryCreateOrUpdateRequest
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				http.Error(w, "bad body", http.StatusBadRequest)
				return
			}
			if f.ignorePut {
				body.Public = false
			}
			f.repos[key] = body
			w.WriteHeader(http.StatusNoContent)
		case http.MethodGet:
			body, ok := f.repos[key]
			if !ok {
				w.WriteHeader(http.StatusNotFound)
				_, _ = w.Write([]byte(`{"status":404,"title":"Not Found"}`))
				return
			}
			_ = json.NewEncoder(w).Encode(repositories.RepositoryResponse{Repository: repositories.Repository{Name: key[strings.Index(key, "/")+1:], Public: body.Public}})
		default:
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	default:
		http.NotFound(w, r)
	}
}

func TestTokenID(t *testing.T) {
	cases := map[string]struct {
		reason string
		arg    string
		want   string
		err    bool
	}{
		"JWT":         {reason: "The ID is the jti claim.", arg: testToken("abc-123"), want: "abc-123"},
		"NotJWT":      {reason: "A token without three parts is not an Upbound token.", arg: "plain-secret", err: true},
		"NoJTI":       {reason: "Without an ID there is nothing to log in as.", arg: "e30." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"x"}`)) + ".sig", err: true},
		"BadEncoding": {reason: "A payload that is not base64url is refused.", arg: "a.!!!.c", err: true},
	}
	for n, tc := range cases {
		t.Run(n, func(t *testing.T) {
			got, err := TokenID(tc.arg)
			if (err != nil) != tc.err {
				t.Fatalf("%s\nTokenID(...): want error %t, got %v", tc.reason, tc.err, err)
			}
			if err != nil && strings.Contains(err.Error(), tc.arg) {
				t.Errorf("%s\nTokenID(...): the error holds the token", tc.reason)
			}
			if got != tc.want {
				t.Errorf("%s\nTokenID(...): want %q, got %q", tc.reason, tc.want, got)
			}
		})
	}
}

func TestEnsureRepositories(t *testing.T) {
	token := testToken("robot-42")
	pkgs := DefaultPackages([]string{"amd64"})

	type args struct {
		server     *fakeUpbound
		token      string
		visibility Visibility
		publish    bool
	}
	type want struct {
		repos    map[string]repositories.RepositoryCreateOrUpdateRequest
		requests []string
		err      string
	}
	cases := map[string]struct {
		reason string
		args   args
		want   want
	}{
		"PublicPublished": {
			reason: "Log in once, then PUT each repository public with the publish policy and read it back.",
			args:   args{server: &fakeUpbound{id: "robot-42", token: token}, token: token, visibility: Public, publish: true},
			want: want{
				repos: map[string]repositories.RepositoryCreateOrUpdateRequest{
					"hourglass-xp/configuration-performer": {Public: true, Publish: true},
					"hourglass-xp/function-performer":      {Public: true, Publish: true},
					"hourglass-xp/provider-hourglass":      {Public: true, Publish: true},
				},
				requests: []string{
					"POST /v1/login",
					"PUT /v1/repositories/hourglass-xp/configuration-performer", "GET /v1/repositories/hourglass-xp/configuration-performer",
					"PUT /v1/repositories/hourglass-xp/function-performer", "GET /v1/repositories/hourglass-xp/function-performer",
					"PUT /v1/repositories/hourglass-xp/provider-hourglass", "GET /v1/repositories/hourglass-xp/provider-hourglass",
				},
			},
		},
		"PrivateDraft": {
			reason: "Private repositories with drafts send public=false, publish=false.",
			args:   args{server: &fakeUpbound{id: "robot-42", token: token}, token: token, visibility: Private},
			want: want{repos: map[string]repositories.RepositoryCreateOrUpdateRequest{
				"hourglass-xp/configuration-performer": {},
				"hourglass-xp/function-performer":      {},
				"hourglass-xp/provider-hourglass":      {},
			}},
		},
		"NoToken": {
			reason: "Without UP_TOKEN nothing is sent and the error says what to set.",
			args:   args{server: &fakeUpbound{}, visibility: Public},
			want:   want{err: "set UP_TOKEN", requests: []string{}},
		},
		"LoginRejected": {
			reason: "A rejected login reports the status only: the server's body may echo the token.",
			args:   args{server: &fakeUpbound{id: "robot-42", token: token, loginStatus: http.StatusUnauthorized}, token: token, visibility: Public},
			want:   want{err: "cannot log in to the Upbound API: 401 Unauthorized", requests: []string{"POST /v1/login"}},
		},
		"NoSessionCookie": {
			reason: "A login that sets no cookie cannot authenticate the repository calls.",
			args:   args{server: &fakeUpbound{id: "robot-42", token: token, noCookie: true}, token: token, visibility: Public},
			want:   want{err: errNoSession, requests: []string{"POST /v1/login"}},
		},
		"Forbidden": {
			reason: "An Upbound API error names the repository and carries the API's title and detail.",
			args:   args{server: &fakeUpbound{id: "robot-42", token: token, putStatus: http.StatusForbidden}, token: token, visibility: Public},
			want: want{
				err:      "cannot create or update Upbound repository hourglass-xp/configuration-performer: Forbidden: not a member of the organization",
				requests: []string{"POST /v1/login", "PUT /v1/repositories/hourglass-xp/configuration-performer"},
			},
		},
		"VisibilityNotApplied": {
			reason: "A repository that stays private when public was asked for is an error, not a silent surprise for users.",
			args:   args{server: &fakeUpbound{id: "robot-42", token: token, ignorePut: true}, token: token, visibility: Public, publish: true},
			want: want{
				err:      "Upbound repository hourglass-xp/configuration-performer is private after the update, want public",
				requests: []string{"POST /v1/login", "PUT /v1/repositories/hourglass-xp/configuration-performer", "GET /v1/repositories/hourglass-xp/configuration-performer"},
			},
		},
	}
	for n, tc := range cases {
		t.Run(n, func(t *testing.T) {
			srv := httptest.NewServer(tc.args.server)
			defer srv.Close()
			var out bytes.Buffer
			err := func() error {
				c, err := NewUpboundClient(context.Background(), srv.URL, tc.args.token, srv.Client())
				if err != nil {
					return err
				}
				return EnsureRepositories(context.Background(), &out, c, "hourglass-xp", pkgs, tc.args.visibility, tc.args.publish)
			}()
			if tc.want.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want.err) {
					t.Fatalf("%s\nEnsureRepositories(...): want error containing %q, got %v", tc.reason, tc.want.err, err)
				}
			} else if err != nil {
				t.Fatalf("%s\nEnsureRepositories(...): %v", tc.reason, err)
			}
			for _, s := range []string{token, testSession} {
				if (err != nil && strings.Contains(err.Error(), s)) || strings.Contains(out.String(), s) {
					t.Errorf("%s\nEnsureRepositories(...): a credential leaked into the error or output", tc.reason)
				}
			}
			f := tc.args.server
			f.mu.Lock()
			defer f.mu.Unlock()
			if tc.want.repos != nil {
				if diff := cmp.Diff(tc.want.repos, f.repos); diff != "" {
					t.Errorf("%s\nrepositories: -want, +got:\n%s", tc.reason, diff)
				}
			}
			if tc.want.requests != nil {
				if diff := cmp.Diff(tc.want.requests, append([]string{}, f.requests...)); diff != "" {
					t.Errorf("%s\nrequests: -want, +got:\n%s", tc.reason, diff)
				}
			}
		})
	}
}

func TestKeychain(t *testing.T) {
	token := testToken("robot-7")
	type want struct {
		username string
		password string
		err      bool
	}
	cases := map[string]struct {
		reason   string
		registry string
		target   string
		env      map[string]string
		want     want
	}{
		"UpboundToken": {
			reason:   "For xpkg.upbound.io the token's ID and the token log in, as docker login takes them.",
			registry: "xpkg.upbound.io", target: "xpkg.upbound.io",
			env:  map[string]string{EnvUpboundToken: token},
			want: want{username: "robot-7", password: token},
		},
		"UpboundTokenNotSentElsewhere": {
			reason:   "The Upbound token is never offered to another registry.",
			registry: "127.0.0.1:5000", target: "127.0.0.1:5000",
			env: map[string]string{EnvUpboundToken: token},
		},
		"ExplicitWins": {
			reason:   "REGISTRY_USERNAME and REGISTRY_PASSWORD win over UP_TOKEN.",
			registry: "xpkg.upbound.io", target: "xpkg.upbound.io",
			env:  map[string]string{EnvUpboundToken: token, EnvRegistryUsername: "u", EnvRegistryPassword: "p"},
			want: want{username: "u", password: "p"},
		},
		"ExplicitOnlyForItsRegistry": {
			reason:   "Explicit credentials answer only the registry being pushed to.",
			registry: "ghcr.io", target: "index.docker.io",
			env: map[string]string{EnvRegistryUsername: "u", EnvRegistryPassword: "p"},
		},
		"BadUpboundToken": {
			reason:   "A token that is not an Upbound token fails early, before any push.",
			registry: "xpkg.upbound.io", target: "xpkg.upbound.io",
			env:  map[string]string{EnvUpboundToken: "nope"},
			want: want{err: true},
		},
	}
	for n, tc := range cases {
		t.Run(n, func(t *testing.T) {
			// No Docker config: only what the environment gives.
			t.Setenv("DOCKER_CONFIG", t.TempDir())
			kc, err := Keychain(tc.registry, func(k string) string { return tc.env[k] })
			if (err != nil) != tc.want.err {
				t.Fatalf("%s\nKeychain(...): want error %t, got %v", tc.reason, tc.want.err, err)
			}
			if err != nil {
				return
			}
			reg, _ := nameRegistry(tc.target)
			a, err := kc.Resolve(reg)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := a.Authorization()
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Username != tc.want.username || cfg.Password != tc.want.password {
				// Do not print the values: they are credentials.
				t.Errorf("%s\nKeychain(...).Resolve(%s): wrong credentials (user %q)", tc.reason, tc.target, cfg.Username)
			}
		})
	}
}

func nameRegistry(s string) (name.Registry, error) { return name.NewRegistry(s) }
