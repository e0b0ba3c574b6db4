// Placeholder: this screen is being built (issue 15).
export default function Inbox() {
  return (
    <section>
      <h1>Inbox</h1>
    </section>
  );
}
