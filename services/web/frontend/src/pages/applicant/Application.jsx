// Placeholder: this screen is being built (issue 15).
export default function Application() {
  return (
    <section>
      <h1>Application</h1>
    </section>
  );
}
