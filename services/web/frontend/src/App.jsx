// The shell: header (brand, navigation by role, language switch, who is signed in), the
// development banner, and the routes. Each screen is its own chunk, loaded when opened.
import { lazy, Suspense, useEffect, useRef } from "react";
import { useTranslation } from "react-i18next";
import { Link, Route, Switch, useLocation } from "wouter";
import { signOut, useSession } from "./session.js";
import { useAuthConfig } from "./auth.js";

const Home = lazy(() => import("./pages/Home.jsx"));
const SignIn = lazy(() => import("./pages/SignIn.jsx"));
const SignedIn = lazy(() => import("./pages/SignedIn.jsx"));
const Scenario = lazy(() => import("./pages/applicant/Scenario.jsx"));
const Applications = lazy(() => import("./pages/applicant/Applications.jsx"));
const Application = lazy(() => import("./pages/applicant/Application.jsx"));
const Licences = lazy(() => import("./pages/applicant/Licences.jsx"));
const Inbox = lazy(() => import("./pages/applicant/Inbox.jsx"));
const Counter = lazy(() => import("./pages/counter/Counter.jsx"));
const Receipt = lazy(() => import("./pages/counter/Receipt.jsx"));
const OfficerQueue = lazy(() => import("./pages/officer/Queue.jsx"));
const OfficerTask = lazy(() => import("./pages/officer/Task.jsx"));
const Supervisor = lazy(() => import("./pages/supervisor/Board.jsx"));
const Verify = lazy(() => import("./pages/Verify.jsx"));

// which links each role sees (everyone: home and the licence check)
const NAV = {
  applicant: ["applications", "licences", "inbox"],
  clerk: ["counter"],
  officer: ["officer"],
  supervisor: ["supervisor"],
  operator: ["supervisor"],
};
const PATHS = {
  home: "/",
  applications: "/applications",
  licences: "/licences",
  inbox: "/inbox",
  counter: "/counter",
  officer: "/officer",
  supervisor: "/supervisor",
  verify: "/verify",
};

function Header() {
  const { t, i18n } = useTranslation();
  const { claims } = useSession();
  const [location, navigate] = useLocation();
  const links = ["home", ...(claims ? NAV[claims.role] || [] : []), "verify"];
  const other = i18n.language === "en" ? "zh" : "en";
  return (
    <header>
      <div className="site-header">
      <div className="brand">
        <Link href="/" className="brand-link">
          <span className="brand-name">{t("brand")}</span>
          <span className="brand-sub">{t("brand_sub")}</span>
        </Link>
      </div>
      <nav aria-label={t("nav.label")} className="site-nav">
        <ul>
          {links.map((name) => (
            <li key={name}>
              <Link
                href={PATHS[name]}
                aria-current={location === PATHS[name] ? "page" : undefined}
              >
                {t(`nav.${name}`)}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <div className="site-tools">
        <button
          type="button"
          className="link-button"
          lang={other === "en" ? "en" : "zh-CN"}
          title={t("language_label")}
          onClick={() => i18n.changeLanguage(other)}
        >
          {t("language")}
        </button>
        {claims ? (
          <>
            <span className="who">
              {t("signed_in_as", { name: claims.name || claims.sub, role: t(`roles.${claims.role}`) })}
            </span>
            <button
              type="button"
              className="link-button"
              onClick={() => {
                signOut();
                navigate("/");
              }}
            >
              {t("sign_out")}
            </button>
          </>
        ) : (
          <Link href={`/signin?next=${encodeURIComponent(location)}`} className="button small">
            {t("sign_in")}
          </Link>
        )}
      </div>
      </div>
      <DevBanner />
    </header>
  );
}

function DevBanner() {
  const { t } = useTranslation();
  const config = useAuthConfig();
  if (!config?.dev) return null;
  return (
    <p className="dev-banner" role="note">
      {t("dev_banner")}
    </p>
  );
}

function NotFound() {
  const { t } = useTranslation();
  return (
    <section>
      <h1>{t("not_found")}</h1>
      <p>{t("not_found_hint")}</p>
      <Link href="/">{t("nav.home")}</Link>
    </section>
  );
}

// moves keyboard and screen-reader focus to the new page's heading on navigation
function useFocusOnNavigate(ref) {
  const [location] = useLocation();
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    ref.current?.focus();
  }, [location, ref]);
}

export default function App() {
  const { t } = useTranslation();
  const main = useRef(null);
  useFocusOnNavigate(main);
  return (
    <>
      <a href="#main" className="skip-link">
        {t("skip")}
      </a>
      <Header />
      <main id="main" ref={main} tabIndex={-1}>
        <Suspense fallback={<p role="status">{t("loading")}</p>}>
          <Switch>
            <Route path="/" component={Home} />
            <Route path="/signin" component={SignIn} />
            <Route path="/signin/done" component={SignedIn} />
            <Route path="/scenarios/:code" component={Scenario} />
            <Route path="/applications" component={Applications} />
            <Route path="/applications/:id" component={Application} />
            <Route path="/licences" component={Licences} />
            <Route path="/inbox" component={Inbox} />
            <Route path="/counter" component={Counter} />
            <Route path="/counter/receipt/:id" component={Receipt} />
            <Route path="/officer" component={OfficerQueue} />
            <Route path="/officer/tasks/:id" component={OfficerTask} />
            <Route path="/supervisor" component={Supervisor} />
            <Route path="/verify" component={Verify} />
            <Route component={NotFound} />
          </Switch>
        </Suspense>
      </main>
      <footer className="site-footer">{t("footer")}</footer>
    </>
  );
}
